namespace Kiln.Tests.Tensors;

/// <summary>Scopes and the pool's statistics: exact numbers, so these run alone.</summary>
[Collection(MemoryCollection.Name)]
public sealed class ScopeMemoryTests
{
    [Fact]
    public void A_scope_returns_its_memory()
    {
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
}
