namespace Kiln.Tests.Ops.Reduce;

using Shape = Kiln.Shape;

public sealed class ProdLogSumExpTests
{
    [Fact]
    public void Prod_values_and_integer_widening()
    {
        var x = Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(720, x.Prod().Item<double>());
        Assert.Equal(new double[] { 4, 10, 18 }, x.Prod(0).ToArray<double>());
        Assert.Equal(new Shape(2, 1), x.Prod(-1, keepDim: true).Shape);
        var ints = Tensor.From<int>([100000, 100000, 3], 3);
        Assert.Equal(DType.Int64, ints.Prod().DType);
        Assert.Equal(30_000_000_000L, ints.Prod().Item<long>());
        Assert.Equal(new double[] { 1, 1 }, Tensor.Zeros([2, 0], DType.Float64).Prod(1).ToArray<double>());
    }

    [Fact]
    public void Prod_gradient_is_the_product_of_the_others_also_with_zeros()
    {
        var x = Tensor.From<double>([2, 0, 3, 0, 0, 5, 2, 3, 4], 3, 3);
        x.RequiresGrad = true;
        x.Prod(1).Sum().Backward();
        Assert.Equal(new double[] { 0, 6, 0, 0, 0, 0, 12, 8, 6 }, x.Grad!.ToArray<double>());

        var v = Tensor.From<double>([0, -1.5, 4], 3);
        v.RequiresGrad = true;
        v.Prod().Backward();
        Assert.Equal(new double[] { -6, 0, 0 }, v.Grad!.ToArray<double>());
    }

    [Fact]
    public void Prod_gradient_is_differentiable_again_where_there_are_no_zeros()
    {
        var x = Tensor.From<double>([2, 3, 4], 3);
        x.RequiresGrad = true;
        var g = Engine.Grad(x.Prod(), x, createGraph: true);
        // Row 0 of the Hessian: d/dx_j of (x1 x2) = [0, x2, x1].
        var h0 = Engine.Grad((g * Tensor.From<double>([1, 0, 0], 3)).Sum(), x).ToArray<double>();
        Assert.Equal(new double[] { 0, 4, 3 }, h0);
    }

    [Fact]
    public void LogSumExp_is_stable_for_large_values()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.From<double>([1000, 1000, -1000, -1000], 2, 2).To(dtype);
            var y = x.LogSumExp(1).To(DType.Float64).ToArray<double>();
            Assert.Equal(1000 + Math.Log(2), y[0], 1e-4);
            Assert.Equal(-1000 + Math.Log(2), y[1], 1e-4);
        }
    }

    [Fact]
    public void LogSumExp_matches_hand_computation_and_handles_infinities()
    {
        var x = Tensor.From<double>([0, Math.Log(2), Math.Log(3), 1], 2, 2);
        var y = x.LogSumExp(0).ToArray<double>();
        Assert.Equal(Math.Log(4), y[0], 1e-15);
        Assert.Equal(Math.Log(2 + Math.E), y[1], 1e-15);
        Assert.Equal(new Shape(1, 1), x.LogSumExp([0, 1], keepDim: true).Shape);
        Assert.Equal(double.NegativeInfinity, Tensor.Full([3], double.NegativeInfinity, DType.Float64).LogSumExp().Item<double>());
        Assert.Equal(double.PositiveInfinity, Tensor.From<double>([1, double.PositiveInfinity], 2).LogSumExp(0).Item<double>());
        Assert.Equal(double.NegativeInfinity, Tensor.Zeros([0], DType.Float64).LogSumExp().Item<double>());
    }

    [Fact]
    public void LogSumExp_gradient_is_the_softmax()
    {
        var x = Tensor.From<double>([0.5, -1, 2, 3, 1000, 999], 2, 3);
        x.RequiresGrad = true;
        x.LogSumExp(1).Sum().Backward();
        var g = x.Grad!.ToArray<double>();
        var expected = x.Detach().Softmax(1).ToArray<double>();
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], g[i], 1e-12);
    }

    [Fact]
    public void LogSumExp_and_Prod_reject_bad_input_naming_the_op()
    {
        var e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Int64).LogSumExp(0));
        Assert.Contains("LogSumExp", e.Message);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Prod(5));
        Assert.Contains("Prod", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }
}
