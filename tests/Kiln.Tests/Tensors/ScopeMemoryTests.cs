namespace Kiln.Tests.Tensors;

/// <summary>Scopes and the pool's statistics: exact numbers, so these run alone.</summary>
[Collection(MemoryCollection.Name)]
public sealed class ScopeMemoryTests
{
    [Fact]
    public void A_scope_returns_its_memory()
    {
        MemoryCollection.WarmScalars(2, 1);
        long start = MemoryCollection.Settle().BytesInUse;
        var x = Tensor.Ones([64, 64]);
        long withX = Engine.MemoryStats().BytesInUse;
        using (Engine.Scope())
        {
            var y = (x * 2f + 1f).Exp().Sum(0).Reshape(8, 8).Expand(2, 8, 8).Clone();
            Assert.True(Engine.MemoryStats().BytesInUse > withX);
        }
        Assert.Equal(withX, Engine.MemoryStats().BytesInUse);
        x.Dispose();
        Assert.Equal(start, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public void A_forward_pass_with_grad_and_no_backward_returns_its_memory_at_scope_end()
    {
        var w = Tensor.Ones([32, 32]);
        w.RequiresGrad = true;
        MemoryCollection.WarmScalars(0.5);
        long start = MemoryCollection.Settle().BytesInUse;
        for (int i = 0; i < 3; i++)
        {
            using var scope = Engine.Scope();
            var y = (w * 0.5f).Exp();   // ExpBackward saves its output
            _ = (y * y).Sum();
        }
        Assert.Equal(start, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public void A_scope_around_backward_keeps_only_the_leaf_gradients()
    {
        var w = Tensor.Ones([32, 32]);
        w.RequiresGrad = true;
        MemoryCollection.WarmScalars(0.5);
        long start = MemoryCollection.Settle().BytesInUse;
        using (Engine.Scope())
        {
            ((w * 0.5f).Exp() * w).Sum().Backward();
        }
        long gradBytes = MemoryPool.SizeClass(32 * 32 * 4).Capacity;
        Assert.Equal(start + gradBytes, Engine.MemoryStats().BytesInUse);
        w.Grad!.Dispose();
        w.Grad = null;
        Assert.Equal(start, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public void Scalar_operands_are_cached_per_thread_in_a_bounded_number_of_buffers()
    {
        var x = Tensor.Ones([4]);
        MemoryCollection.WarmScalars(3);
        long start = MemoryCollection.Settle().BytesInUse;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            using var y = x * 3;
        }
        // The result tensors are the only managed allocations: the scalar 3 comes from the cache.
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        using (var probe = x * 3) { }
        Assert.Equal(start, Engine.MemoryStats().BytesInUse);
        for (int i = 0; i < 1000; i++)
        {
            using var y = x * (i + 0.25);
        }
        long held = MemoryCollection.Settle().BytesInUse - start;
        Assert.True(held > 0 && held <= 32 * MemoryPool.SizeClass(8).Capacity, $"1,000 distinct scalars left {held} bytes in use");
        using (var z = x * 3) Assert.Equal(12f, z.Sum().Item<float>());
        Assert.True(perCall < 1024, $"x * 3 allocated {perCall} managed bytes per call");
        x.Dispose();
    }
}
