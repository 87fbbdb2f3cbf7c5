namespace Kiln.Tests.Autograd;

/// <summary>Tensor.Backward: accumulation into Grad, graph retention, seeds, error messages, deep graphs, determinism.</summary>
public sealed class BackwardTests
{
    private static Tensor Leaf(params double[] values)
    {
        var x = Tensor.From<double>(values);
        x.RequiresGrad = true;
        return x;
    }

    [Fact]
    public void Backward_accumulates_into_grad_across_calls()
    {
        var x = Leaf(1, 2, 3);
        (x * x).Sum().Backward();
        Assert.Equal([2.0, 4, 6], x.Grad!.ToArray<double>());
        (x * x).Sum().Backward();
        Assert.Equal([4.0, 8, 12], x.Grad!.ToArray<double>());
        (x * 5.0).Sum().Backward();
        Assert.Equal([9.0, 13, 17], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_sums_gradients_of_a_tensor_used_several_times()
    {
        var x = Leaf(1.5, -2);
        var y = x * x * x + x * 4.0; // dy/dx = 3x^2 + 4
        y.Sum().Backward();
        Assert.Equal([3 * 1.5 * 1.5 + 4, 3 * 4.0 + 4], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_a_second_time_without_retainGraph_throws_a_clear_error()
    {
        var x = Leaf(1, 2);
        var loss = (x * x).Sum();
        loss.Backward();
        var ex = Assert.Throws<KilnAutogradException>(() => loss.Backward());
        Assert.Contains("second time", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
    }

    [Fact]
    public void Backward_with_retainGraph_allows_a_second_pass()
    {
        var x = Leaf(1, 2);
        var loss = (x * x).Exp().Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        double[] expected = [2 * 2 * 1 * Math.Exp(1), 2 * 2 * 2 * Math.Exp(4)];
        TestTensors.AssertClose(expected, x.Grad!.ToArray<double>(), 1e-14, 0, "grad after two passes");
    }

    [Fact]
    public void Backward_on_a_non_scalar_without_gradient_names_the_shape()
    {
        var x = Leaf(1, 2, 3, 4, 5, 6);
        var y = x.Reshape(2, 3) * 2.0;
        var ex = Assert.Throws<KilnAutogradException>(() => y.Backward());
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("scalar", ex.Message);
    }

    [Fact]
    public void Backward_on_a_non_scalar_uses_the_given_gradient()
    {
        var x = Leaf(1, 2, 3);
        var y = x * x;
        y.Backward(Tensor.From<double>([1, 10, 100]));
        Assert.Equal([2.0, 40, 600], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_with_a_gradient_of_the_wrong_shape_names_both_shapes()
    {
        var x = Leaf(1, 2, 3);
        var y = x * 2.0;
        var ex = Assert.Throws<KilnAutogradException>(() => y.Backward(Tensor.Ones([2], DType.Float64)));
        Assert.Contains("[2]", ex.Message);
        Assert.Contains("[3]", ex.Message);
    }

    [Fact]
    public void Backward_with_a_gradient_of_another_dtype_names_both_dtypes()
    {
        var x = Tensor.From<float>([1, 2]);
        x.RequiresGrad = true;
        var y = x * 2f;
        var ex = Assert.Throws<KilnAutogradException>(() => y.Backward(Tensor.Ones([2], DType.Float64)));
        Assert.Contains("float64", ex.Message);
        Assert.Contains("float32", ex.Message);
    }

    [Fact]
    public void Backward_on_a_tensor_that_does_not_require_grad_throws()
    {
        var y = Tensor.From<double>([1, 2]).Sum();
        var ex = Assert.Throws<KilnAutogradException>(() => y.Backward());
        Assert.Contains("does not require grad", ex.Message);
    }

    [Fact]
    public void Backward_through_broadcast_sums_over_the_broadcast_dimensions()
    {
        var a = Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3);
        a.RequiresGrad = true;
        var b = Leaf(10, 20, 30);
        (a * b).Sum().Backward();
        Assert.Equal([10.0, 20, 30, 10, 20, 30], a.Grad!.ToArray<double>());
        Assert.Equal([1.0 + 4, 2 + 5, 3 + 6], b.Grad!.ToArray<double>());
        Assert.Equal(b.Shape, b.Grad!.Shape);
    }

    [Fact]
    public void Backward_through_reshape_expand_clone_and_sum_over_a_dimension()
    {
        var x = Leaf(1, 2, 3);
        // y[i, j] = x[j] * (i + 1) for i < 2; loss = sum_j (sum_i y[i, j])^2 = sum_j (3 x_j)^2
        var scale = Tensor.From<double>([1, 2], 2, 1);
        var y = x.Reshape(1, 3).Expand(2, 3).Clone() * scale;
        var s = y.Sum(0);
        (s * s).Sum().Backward();
        Assert.Equal([18.0 * 1, 18 * 2, 18 * 3], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_through_a_cast_returns_a_gradient_of_the_leaf_dtype()
    {
        var x = Tensor.From<float>([1.5f, -2f]);
        x.RequiresGrad = true;
        var y = x.To(DType.Float64) * 3.0;
        Assert.Equal(DType.Float64, y.DType);
        y.Sum().Backward();
        Assert.Equal(DType.Float32, x.Grad!.DType);
        Assert.Equal([3f, 3f], x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Backward_of_a_leaf_itself_fills_its_grad_with_ones()
    {
        var x = Tensor.From<double>([4], 1);
        x.RequiresGrad = true;
        x.Backward();
        Assert.Equal([1.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_through_a_chain_of_100000_ops_does_not_overflow_the_stack()
    {
        const int Steps = 50_000; // two ops per step
        var x = Leaf(2);
        var y = x;
        for (int i = 0; i < Steps; i++) y = y * 1.000001 + 0.0;
        y.Sum().Backward();
        // dy/dx = 1.000001^Steps, computed in the same left-to-right product order as autograd's chain.
        double expected = 1;
        for (int i = 0; i < Steps; i++) expected *= 1.000001;
        TestTensors.AssertClose([expected], x.Grad!.ToArray<double>(), 1e-12, 0, "gradient of a deep chain");
        TestTensors.AssertClose([Math.Exp(Steps * Math.Log(1.000001))], x.Grad!.ToArray<double>(), 1e-9, 0, "closed form");
    }

    [Fact]
    public void Backward_gives_bit_identical_gradients_on_every_run()
    {
        static (float[] W, float[] B) Run()
        {
            var rng = new Random(7);
            var wValues = new float[6 * 5];
            for (int i = 0; i < wValues.Length; i++) wValues[i] = (float)(rng.NextDouble() - 0.5);
            var xValues = new float[4 * 6];
            for (int i = 0; i < xValues.Length; i++) xValues[i] = (float)(rng.NextDouble() * 2 - 1);
            var w = Tensor.From<float>(wValues, 6, 5);
            w.RequiresGrad = true;
            var b = Tensor.Zeros([5]);
            b.RequiresGrad = true;
            var x = Tensor.From<float>(xValues, 4, 6);
            // A layer written with broadcasting: h[n, k] = sum_j x[n, j] w[j, k] + b[k], used twice.
            var h = (x.Reshape(4, 6, 1).Expand(4, 6, 5) * w).Sum(1) + b;
            var loss = ((h * 0.3f).Exp() + h * h).Sum() + (h * w.Sum(0)).Sum();
            loss.Backward();
            return (w.Grad!.ToArray<float>(), b.Grad!.ToArray<float>());
        }

        var first = Run();
        for (int run = 0; run < 3; run++)
        {
            var again = Run();
            Assert.Equal(Bits(first.W), Bits(again.W));
            Assert.Equal(Bits(first.B), Bits(again.B));
        }

        static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
    }
}
