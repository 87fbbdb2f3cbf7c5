namespace Kiln.Tests.Tensors;

/// <summary>Engine.Scope: what is disposed at the end, what escapes, nesting and threads.</summary>
public sealed class ScopeTests
{
    [Fact]
    public void Scope_disposes_the_tensors_created_inside()
    {
        Tensor a, b;
        using (Engine.Scope())
        {
            a = Tensor.Ones([3]);
            b = a * 2f;
            Assert.False(a.IsDisposed);
        }
        Assert.True(a.IsDisposed);
        Assert.True(b.IsDisposed);
    }

    [Fact]
    public void Tensors_created_before_the_scope_survive_it()
    {
        var outside = Tensor.Ones([3]);
        using (Engine.Scope())
        {
            _ = outside * 2f;
        }
        Assert.False(outside.IsDisposed);
    }

    [Fact]
    public void MoveToOuterScope_hands_the_tensor_to_the_enclosing_scope()
    {
        Tensor moved, dropped;
        using (Engine.Scope())
        {
            using (Engine.Scope())
            {
                moved = Tensor.Ones([2]).MoveToOuterScope();
                dropped = Tensor.Ones([2]);
            }
            Assert.False(moved.IsDisposed);
            Assert.True(dropped.IsDisposed);
        }
        Assert.True(moved.IsDisposed);
    }

    [Fact]
    public void MoveToOuterScope_from_the_outermost_scope_frees_it_from_scopes()
    {
        Tensor t;
        using (Engine.Scope())
        {
            t = (Tensor.Ones([2]) + 1f).MoveToOuterScope();
        }
        Assert.False(t.IsDisposed);
        Assert.Equal([2f, 2], t.ToArray<float>());
    }

    [Fact]
    public void Keep_moves_a_tensor_owned_by_the_scope_out_of_it()
    {
        Tensor kept;
        using (var outer = Engine.Scope())
        {
            using (var inner = Engine.Scope())
            {
                kept = Tensor.Ones([2]);
                Assert.Equal(1, inner.Count);
                Assert.Same(kept, inner.Keep(kept));
                Assert.Equal(0, inner.Count);
            }
            Assert.False(kept.IsDisposed);
            Assert.Equal(1, outer.Count);
        }
        Assert.True(kept.IsDisposed);
    }

    [Fact]
    public void Keep_ignores_tensors_the_scope_does_not_own()
    {
        Tensor older;
        using (Engine.Scope())
        {
            older = Tensor.Ones([1]);
            using (var inner = Engine.Scope())
            {
                Assert.Same(older, inner.Keep(older));
            }
            Assert.False(older.IsDisposed);
        }
        Assert.True(older.IsDisposed);
    }

    [Fact]
    public void DetachFromScope_survives_every_scope()
    {
        Tensor t;
        using (Engine.Scope())
        using (Engine.Scope())
        {
            t = Tensor.Ones([2]).DetachFromScope();
        }
        Assert.False(t.IsDisposed);
        t.Dispose();
    }

    [Fact]
    public void Nested_scopes_dispose_their_own_tensors()
    {
        Tensor outerT, innerT;
        using (var outer = Engine.Scope())
        {
            outerT = Tensor.Ones([1]);
            using (var inner = Engine.Scope())
            {
                innerT = Tensor.Ones([1]);
                Assert.Equal(1, inner.Count);
            }
            Assert.True(innerT.IsDisposed);
            Assert.False(outerT.IsDisposed);
            Assert.Equal(1, outer.Count);
        }
        Assert.True(outerT.IsDisposed);
    }

    [Fact]
    public void Disposing_scopes_out_of_order_throws()
    {
        var outer = Engine.Scope();
        var inner = Engine.Scope();
        var t = Tensor.Ones([1]);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.False(t.IsDisposed);
        inner.Dispose();
        Assert.True(t.IsDisposed);
        Assert.Same(outer, TensorScope.Current);
        outer.Dispose();
        Assert.Null(TensorScope.Current);
    }

    [Fact]
    public void Count_drops_when_a_tensor_is_disposed_early()
    {
        using var scope = Engine.Scope();
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        Assert.Equal(2, scope.Count);
        a.Dispose();
        Assert.Equal(1, scope.Count);
        b.DetachFromScope();
        Assert.Equal(0, scope.Count);
        b.Dispose();
    }

    [Fact]
    public void A_scope_only_owns_tensors_of_its_own_thread()
    {
        Tensor? fromOtherThread = null;
        using (Engine.Scope())
        {
            var thread = new Thread(() => fromOtherThread = Tensor.Ones([2]));
            thread.Start();
            thread.Join();
        }
        Assert.False(fromOtherThread!.IsDisposed);
        fromOtherThread.Dispose();
    }

    [Fact]
    public void Gradients_of_leaves_outlive_the_scope_that_ran_backward()
    {
        var w = Tensor.From<float>([1, 2]);
        w.RequiresGrad = true;
        using (Engine.Scope())
        {
            (w * w).Sum().Backward();
        }
        Assert.False(w.Grad!.IsDisposed);
        Assert.Equal([2f, 4], w.Grad.ToArray<float>());
    }

    [Fact]
    public void Backward_after_the_forward_scope_ended_gives_a_clear_error()
    {
        var x = Tensor.From<double>([1, 2]);
        x.RequiresGrad = true;
        Tensor loss;
        using (var scope = Engine.Scope())
        {
            loss = scope.Keep((x.Exp() * x).Sum());
        }
        var ex = Assert.Throws<KilnAutogradException>(() => loss.Backward());
        Assert.Contains("disposed", ex.Message);
        Assert.Contains("scope", ex.Message);
    }
}
