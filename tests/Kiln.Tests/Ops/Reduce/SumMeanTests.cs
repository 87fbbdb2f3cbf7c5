namespace Kiln.Tests.Ops.Reduce;

using Shape = Kiln.Shape;

public sealed class SumMeanTests
{
    private static Tensor Matrix() => Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3);

    private static Tensor Iota(DType dtype, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Tensor.From<double>([.. Enumerable.Range(0, n).Select(i => (double)i)], shape).To(dtype);
    }

    [Fact]
    public void Sum_keeps_or_drops_dimensions_and_accepts_negative_ones()
    {
        var x = Iota(DType.Float32, 2, 3, 4);
        Assert.Equal(new Shape(), x.Sum().Shape);
        Assert.Equal(new Shape(2, 4), x.Sum(1).Shape);
        Assert.Equal(new Shape(2, 3, 1), x.Sum(-1, keepDim: true).Shape);
        Assert.Equal(new Shape(3), x.Sum([0, 2]).Shape);
        Assert.Equal(new Shape(1, 3, 1), x.Sum([-1, 0], keepDim: true).Shape);
        Assert.Equal(x.Sum(2).ToArray<float>(), x.Sum(-1).ToArray<float>());
    }

    [Fact]
    public void Sum_values_match_hand_computation()
    {
        var x = Matrix();
        Assert.Equal(new double[] { 5, 7, 9 }, x.Sum(0).ToArray<double>());
        Assert.Equal(new double[] { 6, 15 }, x.Sum(1).ToArray<double>());
        Assert.Equal(21, x.Sum().Item<double>());
        Assert.Equal(new double[] { 6, 15 }, x.Sum([1], keepDim: true).ToArray<double>());
    }

    [Fact]
    public void Sum_of_a_transposed_view_is_read_in_place()
    {
        var x = Matrix();
        var t = x.AsStrided([3, 2], [1, 3], 0);
        Assert.Equal(new double[] { 6, 15 }, t.Sum(0).ToArray<double>());
        Assert.Equal(new double[] { 5, 7, 9 }, t.Sum(1).ToArray<double>());
        Assert.Equal(21, t.Sum().Item<double>());
    }

    [Fact]
    public void Sum_over_dim_0_of_many_rows_is_a_bias_gradient()
    {
        const int n = 1000, d = 7;
        var data = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) data[i * d + j] = j + 0.5f;
        var sums = Tensor.From<float>(data, n, d).Sum(0).ToArray<float>();
        for (int j = 0; j < d; j++) Assert.Equal((j + 0.5) * n, sums[j], 1e-3);
    }

    [Fact]
    public void Sum_of_integers_and_bools_gives_int64()
    {
        var ints = Tensor.From<int>([int.MaxValue, int.MaxValue, 1], 3);
        var sum = ints.Sum();
        Assert.Equal(DType.Int64, sum.DType);
        Assert.Equal(2L * int.MaxValue + 1, sum.Item<long>());
        var mask = Tensor.From<bool>([true, false, true, true], 2, 2);
        Assert.Equal(DType.Int64, mask.Sum().DType);
        Assert.Equal(3L, mask.Sum().Item<long>());
        Assert.Equal(new long[] { 2, 1 }, mask.Sum(0).ToArray<long>());
    }

    [Fact]
    public void Sum_of_an_empty_dimension_is_zero()
    {
        Assert.Equal(new float[] { 0, 0, 0 }, Tensor.Zeros([0, 3]).Sum(0).ToArray<float>());
        Assert.Equal(0f, Tensor.Zeros([0]).Sum().Item<float>());
    }

    [Fact]
    public void Sum_rejects_bad_dimensions_naming_the_op_and_shape()
    {
        var x = Iota(DType.Float32, 2, 3, 4);
        foreach (var call in new Action[] { () => x.Sum(3), () => x.Sum(-4), () => x.Sum([1, -2]) })
        {
            var e = Assert.Throws<KilnShapeException>(call);
            Assert.Contains("Sum", e.Message);
            Assert.Contains("[2, 3, 4]", e.Message);
        }
    }

    [Fact]
    public void Sum_gradient_broadcasts_back_over_the_reduced_dimensions()
    {
        var x = Iota(DType.Float64, 2, 3);
        x.RequiresGrad = true;
        (x.Sum(1) * Tensor.From<double>([2, 5], 2)).Sum().Backward();
        Assert.Equal(new double[] { 2, 2, 2, 5, 5, 5 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Mean_values_shapes_and_gradient()
    {
        var x = Matrix();
        Assert.Equal(3.5, x.Mean().Item<double>(), 1e-15);
        Assert.Equal(new double[] { 2.5, 3.5, 4.5 }, x.Mean(0).ToArray<double>());
        Assert.Equal(new double[] { 2, 5 }, x.Mean(-1).ToArray<double>());
        Assert.Equal(new Shape(2, 1), x.Mean(1, keepDim: true).Shape);
        Assert.Equal(new Shape(1, 1), x.Mean([0, 1], keepDim: true).Shape);
        x.RequiresGrad = true;
        x.Mean(0).Sum().Backward();
        Assert.All(x.Grad!.ToArray<double>(), g => Assert.Equal(0.5, g, 1e-15));
    }

    [Fact]
    public void Mean_of_an_empty_tensor_is_nan()
    {
        Assert.True(double.IsNaN(Tensor.Zeros([0]).Mean().Item()));
    }

    [Fact]
    public void Mean_rejects_integers_and_bad_dimensions_naming_itself()
    {
        var e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Int64).Mean());
        Assert.Contains("Mean", e.Message);
        Assert.Contains("int64", e.Message);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Mean(2));
        Assert.Contains("Mean", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }
}
