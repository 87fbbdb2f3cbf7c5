namespace Kiln.Tests.Ops.Reduce;

using Shape = Kiln.Shape;

public sealed class VarStdTests
{
    [Fact]
    public void Var_and_Std_match_hand_computation()
    {
        var x = Tensor.From<double>([1, 2, 3, 4], 4);
        // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5
        Assert.Equal(5.0 / 3, x.Var().Item<double>(), 1e-15);
        Assert.Equal(5.0 / 4, x.Var(correction: 0).Item<double>(), 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 3), x.Std().Item<double>(), 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 4), x.Std(0, correction: 0).Item<double>(), 1e-15);
    }

    [Fact]
    public void Var_over_rows_and_columns_with_keepDim()
    {
        var x = Tensor.From<double>([1, 2, 3, 4, 2, 4, 6, 8], 2, 4);
        var rows = x.Var(1);
        Assert.Equal(new Shape(2), rows.Shape);
        Assert.Equal(5.0 / 3, rows.ToArray<double>()[0], 1e-14);
        Assert.Equal(20.0 / 3, rows.ToArray<double>()[1], 1e-14);
        var columns = x.Var(0, keepDim: true);
        Assert.Equal(new Shape(1, 4), columns.Shape);
        // each column holds (a, 2a): deviations ±a/2, so var = a²/2
        Assert.Equal(new double[] { 0.5, 2, 4.5, 8 }, columns.ToArray<double>());
        Assert.Equal(new Shape(1, 1), x.Std([0, -1], keepDim: true).Shape);
    }

    [Fact]
    public void Var_of_float32_values_far_from_zero_stays_accurate()
    {
        var x = Tensor.From<float>([10001, 10002, 10003, 10004, 1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4], 2, 4);
        var v = x.Var(1).ToArray<float>();
        Assert.Equal(5.0 / 3, v[0], 1e-6);
        Assert.Equal(5.0 / 3, v[1], 1e-6);
        var c = x.AsStrided([4, 2], [1, 4], 0).Var(0).ToArray<float>();
        Assert.Equal(5.0 / 3, c[0], 1e-6);
        Assert.Equal(5.0 / 3, c[1], 1e-6);
    }

    [Fact]
    public void Std_gradient_matches_hand_computation()
    {
        var x = Tensor.From<double>([1, 2, 3, 4], 4);
        x.RequiresGrad = true;
        x.Std().Backward();
        double std = Math.Sqrt(5.0 / 3);
        var g = x.Grad!.ToArray<double>();
        for (int i = 0; i < 4; i++) Assert.Equal((i + 1 - 2.5) / (3 * std), g[i], 1e-14);
    }

    [Fact]
    public void Var_gradient_matches_hand_computation()
    {
        var x = Tensor.From<double>([1, 2, 3, 4], 4);
        x.RequiresGrad = true;
        x.Var(correction: 0).Backward();
        var g = x.Grad!.ToArray<double>();
        for (int i = 0; i < 4; i++) Assert.Equal(2 * (i + 1 - 2.5) / 4, g[i], 1e-14);
    }

    [Fact]
    public void Std_gradient_of_a_constant_is_zero_not_nan()
    {
        var x = Tensor.From<double>([2, 2, 2, 5, 1, 3], 2, 3);
        x.RequiresGrad = true;
        x.Std(1).Sum().Backward();
        var g = x.Grad!.ToArray<double>();
        Assert.Equal(new double[] { 0, 0, 0 }, g[..3]);
        Assert.All(g, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Var_with_nothing_left_after_the_correction_is_infinite_or_nan()
    {
        Assert.Equal(double.PositiveInfinity, Tensor.From<double>([1, 2], 2).Var(correction: 2).Item<double>());
        Assert.True(double.IsNaN(Tensor.From<double>([3], 1).Var().Item<double>()));
    }

    [Fact]
    public void Var_rejects_integers_and_bad_dimensions_naming_the_op()
    {
        var e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Int32).Var());
        Assert.Contains("Var", e.Message);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Std(-3));
        Assert.Contains("Std", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }
}
