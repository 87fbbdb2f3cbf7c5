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
}
