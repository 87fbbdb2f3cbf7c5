namespace Kiln.Tests.Ops.Reduce;

using Shape = Kiln.Shape;

public sealed class MaxMinArgTests
{
    [Fact]
    public void Max_and_min_values_over_dimensions()
    {
        var x = Tensor.From<double>([3, -1, 7, 2, 9, -4], 2, 3);
        Assert.Equal(9, x.Max().Item<double>());
        Assert.Equal(-4, x.Min().Item<double>());
        Assert.Equal(new double[] { 3, 9, 7 }, x.Max(0).ToArray<double>());
        Assert.Equal(new double[] { -1, -4 }, x.Min(-1).ToArray<double>());
        Assert.Equal(new Shape(2, 1), x.Max(1, keepDim: true).Shape);
        Assert.Equal(new Shape(1, 1), x.Min([0, 1], keepDim: true).Shape);
        Assert.Equal(new int[] { 7, 9 }, x.To(DType.Int32).Max(1).ToArray<int>());
    }

    [Fact]
    public void Max_propagates_nan()
    {
        var x = Tensor.From<float>([1, float.NaN, 3, 4], 2, 2);
        Assert.True(float.IsNaN(x.Max().Item<float>()));
        var rows = x.Max(1).ToArray<float>();
        Assert.True(float.IsNaN(rows[0]));
        Assert.Equal(4f, rows[1]);
    }

    [Fact]
    public void Max_gradient_splits_equally_among_ties()
    {
        var x = Tensor.From<double>([1, 3, 3, 2], 4);
        x.RequiresGrad = true;
        x.Max().Backward();
        Assert.Equal(new double[] { 0, 0.5, 0.5, 0 }, x.Grad!.ToArray<double>());

        var m = Tensor.From<double>([1, 3, 3, 2, 2, 2, 5, 0, 1], 3, 3);
        m.RequiresGrad = true;
        (m.Max(1) * Tensor.From<double>([1, 3, 6], 3)).Sum().Backward();
        var g = m.Grad!.ToArray<double>();
        double[] expected = [0, 0.5, 0.5, 1, 1, 1, 6, 0, 0];
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], g[i], 1e-12);
    }

    [Fact]
    public void Min_gradient_splits_equally_among_ties_over_several_dims()
    {
        var x = Tensor.From<double>([4, 1, 1, 7, 1, 9], 2, 3);
        x.RequiresGrad = true;
        x.Min([0, 1]).Backward();
        var g = x.Grad!.ToArray<double>();
        double[] expected = [0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], g[i], 1e-12);
    }

    [Fact]
    public void Max_of_an_empty_dimension_is_an_error_naming_the_op()
    {
        var e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([0, 3]).Max(0));
        Assert.Contains("Max", e.Message);
        Assert.Contains("[0, 3]", e.Message);
        Assert.Equal(new Shape(0), Tensor.Zeros([3, 0]).Max(0).Shape);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Min(2));
        Assert.Contains("Min", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void ArgMax_and_ArgMin_give_the_first_position_on_ties()
    {
        var x = Tensor.From<float>([1, 3, 3, 2], 4);
        var i = x.ArgMax();
        Assert.Equal(DType.Int64, i.DType);
        Assert.Equal(new Shape(), i.Shape);
        Assert.Equal(1L, i.Item<long>());
        var m = Tensor.From<float>([2, 1, 1, 0, 0, 5], 2, 3);
        Assert.Equal(new long[] { 1, 0 }, m.ArgMin(1).ToArray<long>());
        Assert.Equal(new long[] { 0, 0, 1 }, m.ArgMax(0).ToArray<long>());
        Assert.Equal(new long[] { 0, 0, 0 }, Tensor.Zeros([4, 3]).ArgMax(0).ToArray<long>());
        Assert.Equal(new Shape(2, 1), m.ArgMax(-1, keepDim: true).Shape);
    }

    [Fact]
    public void ArgMax_without_a_dimension_indexes_the_flattened_tensor_in_logical_order()
    {
        var x = Tensor.From<double>([1, 9, 4, 9, 0, 2], 2, 3);
        Assert.Equal(1L, x.ArgMax().Item<long>());
        Assert.Equal(4L, x.ArgMin().Item<long>());
        // The transpose [[1, 9], [9, 0], [4, 2]]: its first 9 is at flat position 1, its 0 at 3.
        var t = x.AsStrided([3, 2], [1, 3], 0);
        Assert.Equal(1L, t.ArgMax().Item<long>());
        Assert.Equal(3L, t.ArgMin().Item<long>());
        Assert.Equal(new long[] { 1, 0, 0 }, t.ArgMax(1).ToArray<long>());
    }

    [Fact]
    public void ArgMax_treats_nan_as_the_largest_and_ints_work()
    {
        var x = Tensor.From<float>([1, float.NaN, 5, float.NaN], 4);
        Assert.Equal(1L, x.ArgMax().Item<long>());
        Assert.Equal(1L, x.ArgMin().Item<long>());
        var ints = Tensor.From<long>([5, 8, 8, -2], 2, 2);
        Assert.Equal(new long[] { 1, 0 }, ints.ArgMax(1).ToArray<long>());
    }

    [Fact]
    public void ArgMax_treats_signed_zeros_as_a_tie()
    {
        var x = Tensor.From<float>([-1, -0f, 0f, -0f], 4);
        Assert.Equal(1L, x.ArgMax().Item<long>());
        Assert.Equal(new long[] { 0, 0 }, Tensor.From<float>([-0f, 0f, 0f, -0f], 2, 2).ArgMax(1).ToArray<long>());
        Assert.Equal(new long[] { 0, 0 }, Tensor.From<float>([0f, -0f, -0f, 0f], 2, 2).ArgMin(0).ToArray<long>());
    }

    [Fact]
    public void ArgMax_is_not_differentiable_and_rejects_bad_input()
    {
        var x = Tensor.From<double>([1, 2, 3], 3);
        x.RequiresGrad = true;
        Assert.False(x.ArgMax().RequiresGrad);
        var e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).ArgMax(2));
        Assert.Contains("ArgMax", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([0]).ArgMin());
        Assert.Contains("ArgMin", e.Message);
    }
}
