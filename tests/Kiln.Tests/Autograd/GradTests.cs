namespace Kiln.Tests.Autograd;

/// <summary>Engine.Grad: gradients returned instead of accumulated, higher-order derivatives, unused inputs.</summary>
public sealed class GradTests
{
    private static readonly double[] Points = [0.5, -1.5, 2, 0];

    private static Tensor Leaf(params double[] values)
    {
        var x = Tensor.From<double>(values);
        x.RequiresGrad = true;
        return x;
    }

    [Fact]
    public void Grad_returns_the_gradient_and_leaves_Grad_untouched()
    {
        var x = Leaf(1, 2, 3);
        var g = Engine.Grad((x * x).Sum(), x);
        Assert.Equal([2.0, 4, 6], g.ToArray<double>());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Grad_does_not_add_to_an_existing_Grad()
    {
        var x = Leaf(1, 2);
        (x * 3.0).Sum().Backward();
        var before = x.Grad!;
        var g = Engine.Grad((x * x).Sum(), x);
        Assert.Same(before, x.Grad);
        Assert.Equal([3.0, 3], x.Grad!.ToArray<double>());
        Assert.Equal([2.0, 4], g.ToArray<double>());
    }

    [Fact]
    public void Grad_does_not_fill_the_Grad_of_a_non_leaf_that_retains_it()
    {
        var x = Leaf(1, 2);
        var y = (x * 2.0).RetainGrad();
        Engine.Grad((y * y).Sum(), x);
        Assert.Null(y.Grad);
    }

    [Fact]
    public void Grad_with_createGraph_gives_the_second_derivative_of_a_cube()
    {
        var x = Leaf(Points);
        var dy = Engine.Grad((x * x * x).Sum(), x, createGraph: true);
        Assert.True(dy.RequiresGrad);
        Assert.Equal(Points.Select(p => 3 * p * p).ToArray(), dy.ToArray<double>());
        var d2y = Engine.Grad(dy.Sum(), x);
        Assert.Equal(Points.Select(p => 6 * p).ToArray(), d2y.ToArray<double>());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Grad_with_createGraph_gives_the_second_derivative_of_exp()
    {
        var x = Leaf(Points);
        var dy = Engine.Grad(x.Exp().Sum(), x, createGraph: true);
        TestTensors.AssertClose(Points.Select(Math.Exp).ToArray(), dy.ToArray<double>(), 1e-15, 0, "d/dx exp");
        var d2y = Engine.Grad(dy.Sum(), x);
        TestTensors.AssertClose(Points.Select(Math.Exp).ToArray(), d2y.ToArray<double>(), 1e-15, 0, "d2/dx2 exp");
    }

    [Fact]
    public void Grad_with_createGraph_gives_the_second_derivative_of_a_composition()
    {
        // f(x) = exp(x^2): f' = 2x exp(x^2), f'' = (2 + 4x^2) exp(x^2)
        var x = Leaf(Points);
        var dy = Engine.Grad((x * x).Exp().Sum(), x, createGraph: true);
        var d2y = Engine.Grad(dy.Sum(), x);
        TestTensors.AssertClose(Points.Select(p => (2 + 4 * p * p) * Math.Exp(p * p)).ToArray(), d2y.ToArray<double>(), 1e-13, 0, "f''");
    }

    [Fact]
    public void Grad_can_be_taken_three_times()
    {
        // d3/dx3 of x^4 = 24x
        var x = Leaf(Points);
        var d1 = Engine.Grad((x * x * x * x).Sum(), x, createGraph: true);
        var d2 = Engine.Grad(d1.Sum(), x, createGraph: true);
        var d3 = Engine.Grad(d2.Sum(), x);
        Assert.Equal(Points.Select(p => 24 * p).ToArray(), d3.ToArray<double>());
    }

    [Fact]
    public void Backward_with_createGraph_makes_Grad_differentiable()
    {
        var x = Leaf(Points);
        (x * x * x).Sum().Backward(createGraph: true);
        var g = x.Grad!;
        Assert.True(g.RequiresGrad);
        var d2 = Engine.Grad(g.Sum(), x);
        Assert.Equal(Points.Select(p => 6 * p).ToArray(), d2.ToArray<double>());
    }

    [Fact]
    public void Grad_of_an_unused_input_is_null_with_allowUnused()
    {
        var x = Leaf(1, 2);
        var unused = Leaf(3);
        var grads = Engine.Grad([(x * x).Sum()], [x, unused], allowUnused: true);
        Assert.Equal([2.0, 4], grads[0]!.ToArray<double>());
        Assert.Null(grads[1]);
    }

    [Fact]
    public void Grad_of_an_unused_input_without_allowUnused_throws_naming_the_input()
    {
        var x = Leaf(1, 2);
        var unused = Leaf(3);
        var ex = Assert.Throws<KilnAutogradException>(() => Engine.Grad([(x * x).Sum()], [x, unused]));
        Assert.Contains("input 1", ex.Message);
        Assert.Contains("allowUnused", ex.Message);
    }

    [Fact]
    public void Grad_with_respect_to_a_non_leaf()
    {
        var x = Leaf(1, 2);
        var y = x * 3.0;
        var g = Engine.Grad((y * y).Sum(), y);
        Assert.Equal([6.0, 12], g.ToArray<double>());
    }

    [Fact]
    public void Grad_of_several_outputs_with_output_gradients()
    {
        var x = Leaf(1, 2);
        var a = x * x;           // da/dx = 2x
        var b = x * 5.0;         // db/dx = 5
        var grads = Engine.Grad([a, b], [x], [Tensor.From<double>([1, 1]), Tensor.From<double>([2, 3])]);
        Assert.Equal([2.0 * 1 + 10, 2 * 2 + 15], grads[0]!.ToArray<double>());
    }

    [Fact]
    public void Grad_with_respect_to_an_input_that_does_not_require_grad_throws()
    {
        var x = Leaf(1);
        var c = Tensor.From<double>([2.0]);
        var ex = Assert.Throws<KilnAutogradException>(() => Engine.Grad([(x * c).Sum()], [c]));
        Assert.Contains("does not require grad", ex.Message);
    }

    [Fact]
    public void Grad_without_retainGraph_frees_the_graph()
    {
        var x = Leaf(1, 2);
        var loss = (x * x).Sum();
        Engine.Grad(loss, x);
        Assert.Throws<KilnAutogradException>(() => Engine.Grad(loss, x));
        var loss2 = (x * x).Sum();
        Engine.Grad([loss2], [x], retainGraph: true);
        Assert.Equal([2.0, 4], Engine.Grad(loss2, x).ToArray<double>());
    }
}
