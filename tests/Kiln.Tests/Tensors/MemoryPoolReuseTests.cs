namespace Kiln.Tests.Tensors;

/// <summary>Reuse, caching and statistics: exact numbers, so these run alone.</summary>
[Collection(MemoryCollection.Name)]
public sealed class MemoryPoolReuseTests
{
    [Fact]
    public unsafe void A_freed_buffer_is_reused_for_the_same_size_class()
    {
        MemoryCollection.Settle();
        var first = Tensor.Empty([1000], DType.Float32);
        nint pointer = (nint)first.DataPointer;
        first.Dispose();
        long allocations = Engine.MemoryStats().NativeAllocations;
        // 3900..4096 bytes share the 4096-byte class.
        using var second = Tensor.Empty([980], DType.Float32);
        Assert.Equal(pointer, (nint)second.DataPointer);
        Assert.Equal(allocations, Engine.MemoryStats().NativeAllocations);
    }

    [Fact]
    public void Freed_memory_is_cached_and_EmptyCache_releases_it()
    {
        var before = MemoryCollection.Settle();
        var t = Tensor.Empty([10_000], DType.Float64);
        long capacity = MemoryPool.SizeClass(80_000).Capacity;
        var during = Engine.MemoryStats();
        Assert.Equal(before.BytesInUse + capacity, during.BytesInUse);
        t.Dispose();
        var after = Engine.MemoryStats();
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        Assert.True(after.BytesCached >= capacity);
        Engine.EmptyCache();
        Assert.Equal(0, Engine.MemoryStats().BytesCached);
        Assert.Equal(before.BytesInUse, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public void Nothing_is_cached_beyond_the_cache_limit()
    {
        MemoryCollection.Settle();
        Engine.EmptyCache();
        long limit = MemoryPool.CacheLimitBytes;
        try
        {
            MemoryPool.CacheLimitBytes = 0;
            Tensor.Empty([5000], DType.Float32).Dispose();
            Assert.Equal(0, Engine.MemoryStats().BytesCached);
        }
        finally
        {
            MemoryPool.CacheLimitBytes = limit;
        }
    }

    [Fact]
    public void BytesInUse_and_peak_follow_allocations()
    {
        var start = MemoryCollection.Settle();
        Engine.ResetPeakMemory();
        Assert.Equal(start.BytesInUse, Engine.MemoryStats().PeakBytesInUse);
        var a = Tensor.Empty([4096], DType.Float32);   // 16 KiB
        var b = Tensor.Empty([2048], DType.Float64);   // 16 KiB
        Assert.Equal(start.BytesInUse + 32768, Engine.MemoryStats().BytesInUse);
        a.Dispose();
        b.Dispose();
        var c = Tensor.Empty([100], DType.Float32);    // 400 bytes -> 448-byte class
        var stats = Engine.MemoryStats();
        Assert.Equal(start.BytesInUse + 448, stats.BytesInUse);
        Assert.Equal(start.BytesInUse + 32768, stats.PeakBytesInUse);
        Engine.ResetPeakMemory();
        Assert.Equal(start.BytesInUse + 448, Engine.MemoryStats().PeakBytesInUse);
        c.Dispose();
        Assert.Equal(start.BytesInUse, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public unsafe void A_large_request_takes_a_cached_larger_buffer_before_asking_the_system()
    {
        MemoryCollection.Settle();
        Engine.EmptyCache();
        var big = Tensor.Empty([4 << 20], DType.Float32);   // 16 MiB
        nint pointer = (nint)big.DataPointer;
        big.Dispose();
        long allocations = Engine.MemoryStats().NativeAllocations;
        using var quarter = Tensor.Empty([1 << 20], DType.Float32);   // 4 MiB: nothing cached in its own class
        Assert.Equal(pointer, (nint)quarter.DataPointer);
        Assert.Equal(allocations, Engine.MemoryStats().NativeAllocations);
        // A small request never takes a large buffer, and a buffer more than 8x larger is not taken.
        var huge = Tensor.Empty([16 << 20], DType.Float32);   // 64 MiB
        huge.Dispose();
        using var small = Tensor.Empty([1 << 18], DType.Float32);   // 1 MiB: 64x smaller
        Assert.Equal(allocations + 2, Engine.MemoryStats().NativeAllocations);
        Engine.EmptyCache();
    }

    [Fact]
    public void A_large_request_the_cache_cannot_serve_first_frees_the_smaller_cached_large_buffers()
    {
        MemoryCollection.Settle();
        Engine.EmptyCache();
        Tensor.Empty([16 << 10], DType.Float32).Dispose();   // 64 KiB: a small class, kept
        Tensor.Empty([512 << 10], DType.Float32).Dispose();  // 2 MiB: a large class
        long small = MemoryPool.SizeClass(64 << 10).Capacity;
        Assert.Equal(small + MemoryPool.SizeClass(2 << 20).Capacity, Engine.MemoryStats().BytesCached);
        using (Tensor.Empty([16 << 20], DType.Float32))      // 64 MiB: more than 8x the cached 2 MiB, so it asks the system
            Assert.Equal(small, Engine.MemoryStats().BytesCached);

        // A loop repeating its sizes stops asking the system after its first passes.
        long allocations = 0;
        for (int pass = 0; pass < 3; pass++)
        {
            allocations = Engine.MemoryStats().NativeAllocations;
            Tensor.Empty([512 << 10], DType.Float32).Dispose();
            Tensor.Empty([16 << 20], DType.Float32).Dispose();
        }
        Assert.Equal(allocations, Engine.MemoryStats().NativeAllocations);
        Engine.EmptyCache();
    }

    [Fact]
    public void ClassCapacity_is_the_capacity_SizeClass_gives()
    {
        foreach (long bytes in new long[] { 1, 64, 65, 1000, 4096, 5000, 1 << 20, (1 << 20) + 1, 100_000_000 })
        {
            var (sizeClass, capacity) = MemoryPool.SizeClass(bytes);
            Assert.Equal(capacity, MemoryPool.ClassCapacity(sizeClass));
        }
    }
}
