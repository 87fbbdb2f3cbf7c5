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
