namespace Kiln.Tests.Autograd;

/// <summary>RetainGrad and gradient hooks on leaves and non-leaves.</summary>
public sealed class HookTests
{
    private static Tensor Leaf(params double[] values)
    {
        var x = Tensor.From<double>(values);
        x.RequiresGrad = true;
        return x;
    }

    [Fact]
    public void RetainGrad_on_a_non_leaf_fills_its_Grad()
    {
        var x = Leaf(1, 2);
        var y = x * 3.0;
        Assert.Same(y, y.RetainGrad());
        var z = y * 2.0;
        (y * z).Sum().Backward(); // 2 y^2 -> d/dy = 4y
        Assert.Equal([12.0, 24], y.Grad!.ToArray<double>());
        Assert.Null(z.Grad);
        Assert.Equal([36.0, 72], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void RetainGrad_accumulates_across_backward_calls()
    {
        var x = Leaf(1, 2);
        var y = (x * 3.0).RetainGrad();
        var loss = y.Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal([2.0, 2], y.Grad!.ToArray<double>());
    }

    [Fact]
    public void Retained_gradient_accumulated_inside_a_scope_outlives_it()
    {
        var x = Leaf(1, 2);
        var y = (x * 3.0).RetainGrad();
        var loss = y.Sum();
        using (Engine.Scope()) loss.Backward(retainGraph: true);
        using (Engine.Scope()) loss.Backward();
        Assert.False(y.Grad!.IsDisposed);
        Assert.Equal([2.0, 2], y.Grad.ToArray<double>());
    }

    [Fact]
    public void RetainGrad_on_a_tensor_without_grad_throws()
    {
        Assert.Throws<KilnAutogradException>(() => Tensor.Ones([1]).RetainGrad());
    }

    [Fact]
    public void Hook_on_a_leaf_observes_its_whole_gradient_once()
    {
        var x = Leaf(1, 2);
        var seen = new List<double[]>();
        x.RegisterHook(g => { seen.Add(g.ToArray<double>()); return null; });
        (x * x + x).Sum().Backward(); // three uses of x: 2x + 1
        Assert.Single(seen);
        Assert.Equal([3.0, 5], seen[0]);
        Assert.Equal([3.0, 5], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Hook_on_a_leaf_can_replace_its_gradient()
    {
        var x = Leaf(1, 2);
        x.RegisterHook(g => g * 10.0);
        (x * x).Sum().Backward();
        Assert.Equal([20.0, 40], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Hook_on_a_non_leaf_observes_and_replaces_the_gradient_flowing_on()
    {
        var x = Leaf(1, 2);
        var y = x * 3.0;
        double[]? seen = null;
        y.RegisterHook(g => { seen = g.ToArray<double>(); return g * 0.5; });
        (y * y).Sum().Backward();
        Assert.Equal([6.0, 12], seen!);          // 2y
        Assert.Equal([9.0, 18], x.Grad!.ToArray<double>()); // 0.5 * 2y * 3
    }

    [Fact]
    public void Hooks_run_in_registration_order_each_on_the_previous_result()
    {
        var x = Leaf(1);
        var order = new List<string>();
        x.RegisterHook(g => { order.Add("first"); return g + 1.0; });
        x.RegisterHook(g => { order.Add("second"); return g * 10.0; });
        (x * 2.0).Sum().Backward();
        Assert.Equal(["first", "second"], order);
        Assert.Equal([30.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Disposing_the_handle_removes_the_hook()
    {
        var x = Leaf(1, 2);
        var y = x * 1.0;
        int leafCalls = 0, nonLeafCalls = 0;
        var leafHandle = x.RegisterHook(g => { leafCalls++; return g * 100.0; });
        var nonLeafHandle = y.RegisterHook(g => { nonLeafCalls++; return g * 100.0; });
        leafHandle.Dispose();
        nonLeafHandle.Dispose();
        (y * y).Sum().Backward();
        Assert.Equal(0, leafCalls);
        Assert.Equal(0, nonLeafCalls);
        Assert.Equal([2.0, 4], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Hook_on_a_leaf_also_runs_for_Grad()
    {
        var x = Leaf(1, 2);
        int calls = 0;
        x.RegisterHook(g => { calls++; return g * 2.0; });
        var g = Engine.Grad((x * x).Sum(), x);
        Assert.Equal(1, calls);
        Assert.Equal([4.0, 8], g.ToArray<double>());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Registering_a_hook_on_a_tensor_without_grad_throws()
    {
        Assert.Throws<KilnAutogradException>(() => Tensor.Ones([1]).RegisterHook(g => g));
    }
}
