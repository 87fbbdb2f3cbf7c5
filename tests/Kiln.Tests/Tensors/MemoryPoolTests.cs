namespace Kiln.Tests.Tensors;

/// <summary>The pool's size classes and alignment (pure; safe in parallel).</summary>
public sealed class MemoryPoolTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Bool)]
    [InlineData(DType.Int8)]
    public unsafe void Every_new_tensor_is_64_byte_aligned(DType dtype)
    {
        var tensors = new List<Tensor>();
        for (int n = 0; n <= 300; n++) tensors.Add(Tensor.Zeros([n], dtype));
        foreach (int n in (int[])[1023, 4096, 100_000, 1 << 20]) tensors.Add(Tensor.Ones([n], dtype));
        tensors.Add(Tensor.Scalar(1, dtype));
        tensors.Add(Tensor.Zeros([3, 0, 5], dtype));
        foreach (var t in tensors)
        {
            Assert.True((nint)t.DataPointer % 64 == 0, $"{t.Shape} {dtype.Name()} starts at {(nint)t.DataPointer:x}");
            t.Dispose();
        }
    }

    [Fact]
    public unsafe void Op_results_are_64_byte_aligned()
    {
        for (int n = 1; n < 70; n++)
        {
            var a = Tensor.Ones([n]);
            using var y = (a * a).Exp();
            Assert.True((nint)y.DataPointer % 64 == 0);
        }
    }

    [Fact]
    public void Size_class_capacity_covers_the_request_in_64_byte_multiples()
    {
        for (long bytes = 0; bytes <= 70_000; bytes += bytes < 2048 ? 1 : 61)
        {
            var (cls, capacity) = MemoryPool.SizeClass(bytes);
            Assert.True(capacity >= bytes, $"{bytes} bytes got capacity {capacity}");
            Assert.True(capacity % 64 == 0, $"{bytes} bytes got capacity {capacity}");
            Assert.True(cls >= 0);
        }
    }

    [Fact]
    public void Size_classes_waste_at_most_a_quarter_above_256_bytes()
    {
        var rng = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            long bytes = 256 + (long)(Math.Pow(2, rng.NextDouble() * 32));
            var (_, capacity) = MemoryPool.SizeClass(bytes);
            Assert.True(capacity - bytes <= bytes / 4, $"{bytes} bytes got capacity {capacity}");
        }
        for (long bytes = 0; bytes <= 256; bytes++)
            Assert.True(MemoryPool.SizeClass(bytes).Capacity - bytes <= 64 + bytes / 4);
    }

    [Fact]
    public void Size_classes_grow_with_the_request_and_each_has_one_capacity()
    {
        var capacityOf = new Dictionary<int, long>();
        int previous = -1;
        for (long bytes = 0; bytes <= 1 << 22; bytes += bytes < 4096 ? 1 : 97)
        {
            var (cls, capacity) = MemoryPool.SizeClass(bytes);
            Assert.True(cls >= previous, $"{bytes} bytes fell to class {cls} after class {previous}");
            previous = cls;
            if (capacityOf.TryGetValue(cls, out var known)) Assert.Equal(known, capacity);
            else capacityOf[cls] = capacity;
        }
        Assert.Equal((0, 64L), MemoryPool.SizeClass(0));
        Assert.Equal((0, 64L), MemoryPool.SizeClass(64));
        Assert.Equal(1024L, MemoryPool.SizeClass(1024).Capacity);
        Assert.Equal(1280L, MemoryPool.SizeClass(1025).Capacity);
    }
}

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
