using Kiln.Autograd;
using static Kiln.Tests.Ops.ShapeOps.ShapeTestData;

namespace Kiln.Tests.Ops.ShapeOps;

public sealed class ViewOpTests
{
    [Fact]
    public void Permute_reorders_dimensions_without_copying()
    {
        var x = Arange(2, 3, 4);
        var y = x.Permute(2, 0, 1);
        Assert.Equal(new Kiln.Shape(4, 2, 3), y.Shape);
        Assert.True(y.SharesStorageWith(x));
        var values = TestTensors.Values(y);
        int k = 0;
        for (int c = 0; c < 4; c++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 3; b++)
                    Assert.Equal(Position([2, 3, 4], a, b, c), values[k++]);
    }

    [Fact]
    public void Permute_accepts_negative_dims()
    {
        var y = Arange(2, 3, 4).Permute(-1, 0, -2);
        Assert.Equal(new Kiln.Shape(4, 2, 3), y.Shape);
    }

    [Fact]
    public void Transpose_swaps_two_dims_and_T_transposes_a_matrix()
    {
        var x = Arange(3, 5);
        var t = x.T;
        Assert.Equal(new Kiln.Shape(5, 3), t.Shape);
        Assert.False(t.IsContiguous);
        var values = TestTensors.Values(t);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Position([3, 5], j, i), values[i * 3 + j]);
        Assert.Equal(TestTensors.Values(t), TestTensors.Values(x.Transpose(1, 0)));
        Assert.Equal(TestTensors.Values(t), TestTensors.Values(x.Transpose(-1, -2)));
    }

    [Fact]
    public void T_refuses_tensors_that_are_not_matrices()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Arange(2, 3, 4).T);
        Assert.Contains("T: expects a 2-D tensor", ex.Message);
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Throws<KilnShapeException>(() => Arange(3).T);
    }

    [Fact]
    public void MT_transposes_the_last_two_dims_of_a_batch()
    {
        var x = Arange(2, 3, 4);
        var y = x.MT;
        Assert.Equal(new Kiln.Shape(2, 4, 3), y.Shape);
        var values = TestTensors.Values(y);
        int k = 0;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal(Position([2, 3, 4], b, j, i), values[k++]);
        Assert.Throws<KilnShapeException>(() => Arange(4).MT);
    }

    [Fact]
    public void Transpose_with_the_same_dim_is_a_new_view()
    {
        var x = Arange(2, 3);
        var y = x.Transpose(1, 1);
        Assert.NotSame(x, y);
        y.Dispose();
        Assert.False(x.IsDisposed);
    }

    [Fact]
    public void Permute_error_names_the_op_and_the_shape()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Arange(2, 3).Permute(0, 0));
        Assert.Contains("Permute", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
    }

    [Fact]
    public void Slice_takes_every_step_th_element_with_python_bounds()
    {
        var x = Arange(10);
        Assert.Equal([1.0, 3, 5, 7], TestTensors.Values(x.Slice(0, 1, 8, 2)));
        Assert.Equal([7.0, 8], TestTensors.Values(x.Slice(0, -3, -1)));
        Assert.Equal([0.0, 3, 6, 9], TestTensors.Values(x.Slice(0, step: 3)));
        Assert.Equal([8.0, 9], TestTensors.Values(x.Slice(0, 8, 100)));
        Assert.Equal([0.0, 1], TestTensors.Values(x.Slice(0, -100, 2)));
        Assert.Empty(TestTensors.Values(x.Slice(0, 6, 2)));
        Assert.Equal(new Kiln.Shape(0), x.Slice(0, 6, 2).Shape);
    }

    [Fact]
    public void Slice_of_a_middle_dimension_matches_index_arithmetic()
    {
        var x = Arange(2, 7, 3);
        var y = x.Slice(1, 1, 6, 2);
        Assert.Equal(new Kiln.Shape(2, 3, 3), y.Shape);
        var values = TestTensors.Values(y);
        int k = 0;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(Position([2, 7, 3], a, 1 + 2 * b, c), values[k++]);
    }

    [Fact]
    public void Slice_refuses_a_non_positive_step()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Arange(5).Slice(0, step: 0));
        Assert.Contains("Slice", ex.Message);
        Assert.Contains("step", ex.Message);
    }

    [Fact]
    public void Narrow_views_a_range_and_checks_bounds()
    {
        var x = Arange(4, 5);
        var y = x.Narrow(1, 1, 3);
        Assert.Equal(new Kiln.Shape(4, 3), y.Shape);
        Assert.Equal(Position([4, 5], 2, 1), TestTensors.Values(y)[2 * 3]);
        Assert.Equal(TestTensors.Values(x.Narrow(1, 2, 3)), TestTensors.Values(x.Narrow(1, -3, 3)));
        var ex = Assert.Throws<KilnShapeException>(() => x.Narrow(1, 3, 3));
        Assert.Contains("Narrow", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
        Assert.Contains("size 5", ex.Message);
        Assert.Throws<KilnShapeException>(() => x.Narrow(2, 0, 1));
    }

    [Fact]
    public void Select_drops_the_dimension()
    {
        var x = Arange(3, 4, 5);
        var y = x.Select(1, 2);
        Assert.Equal(new Kiln.Shape(3, 5), y.Shape);
        var values = TestTensors.Values(y);
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(Position([3, 4, 5], a, 2, c), values[a * 5 + c]);
        Assert.Equal(TestTensors.Values(x.Select(2, 4)), TestTensors.Values(x.Select(-1, -1)));
        var ex = Assert.Throws<KilnShapeException>(() => x.Select(0, 3));
        Assert.Contains("Select", ex.Message);
        Assert.Contains("index 3", ex.Message);
    }

    [Fact]
    public void Squeeze_and_unsqueeze_add_and_remove_size_one_dims()
    {
        var x = Arange(1, 3, 1, 2);
        Assert.Equal(new Kiln.Shape(3, 2), x.Squeeze().Shape);
        Assert.Equal(new Kiln.Shape(3, 1, 2), x.Squeeze(0).Shape);
        Assert.Equal(new Kiln.Shape(1, 3, 1, 2), x.Squeeze(1).Shape);
        Assert.Equal(new Kiln.Shape(3, 2), x.Squeeze(0, -2).Shape);
        var y = Arange(3, 2);
        Assert.Equal(new Kiln.Shape(1, 3, 2), y.Unsqueeze(0).Shape);
        Assert.Equal(new Kiln.Shape(3, 1, 2), y.Unsqueeze(1).Shape);
        Assert.Equal(new Kiln.Shape(3, 2, 1), y.Unsqueeze(-1).Shape);
        Assert.Equal(new Kiln.Shape(3, 1, 2), y.Unsqueeze(-2).Shape);
        Assert.Equal(TestTensors.Values(y), TestTensors.Values(y.Unsqueeze(1)));
        Assert.True(y.Unsqueeze(1).SharesStorageWith(y));
        Assert.Throws<KilnShapeException>(() => y.Unsqueeze(3));
        Assert.Equal(new Kiln.Shape(1), Tensor.Scalar(2).Unsqueeze(0).Shape);
    }

    [Fact]
    public void Unsqueeze_of_a_transposed_view_reads_the_right_elements()
    {
        var t = Arange(3, 4).T.Unsqueeze(1);
        Assert.Equal(new Kiln.Shape(4, 1, 3), t.Shape);
        var values = TestTensors.Values(t);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Position([3, 4], j, i), values[i * 3 + j]);
        Assert.Equal(values, TestTensors.Values(t.Contiguous()));
    }

    [Fact]
    public void Flatten_merges_a_range_of_dims()
    {
        var x = Arange(2, 3, 4, 5);
        Assert.Equal(new Kiln.Shape(120), x.Flatten().Shape);
        Assert.Equal(new Kiln.Shape(2, 60), x.Flatten(1).Shape);
        Assert.Equal(new Kiln.Shape(2, 12, 5), x.Flatten(1, 2).Shape);
        Assert.Equal(new Kiln.Shape(1), Tensor.Scalar(3).Flatten().Shape);
        Assert.Equal(TestTensors.Values(x), TestTensors.Values(x.Flatten(1, 2)));
        var flatT = Arange(3, 4).T.Flatten();
        var expected = new double[12];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) expected[i * 3 + j] = Position([3, 4], j, i);
        Assert.Equal(expected, TestTensors.Values(flatT));
        Assert.Throws<KilnShapeException>(() => x.Flatten(2, 1));
    }

    [Fact]
    public void Unflatten_splits_a_dim()
    {
        var x = Arange(2, 12);
        Assert.Equal(new Kiln.Shape(2, 3, 4), x.Unflatten(1, 3, 4).Shape);
        Assert.Equal(new Kiln.Shape(2, 2, 6), x.Unflatten(-1, 2, -1).Shape);
        Assert.Throws<KilnShapeException>(() => x.Unflatten(1, 5, -1));
        Assert.Throws<KilnShapeException>(() => x.Unflatten(1, 3, 3));
    }

    [Fact]
    public void Writes_to_the_base_are_visible_through_every_view()
    {
        var x = Arange(4, 6);
        var views = new[] { x.T, x.Slice(1, 1, 6, 2), x.Select(0, 2), x.Narrow(0, 1, 2), x.Unsqueeze(1), x.Permute(1, 0).Squeeze() };
        x.Span<double>()[2 * 6 + 3] = -7;
        Assert.Equal(-7, TestTensors.Values(views[0])[3 * 4 + 2]);
        Assert.Equal(-7, TestTensors.Values(views[1])[2 * 3 + 1]);
        Assert.Equal(-7, TestTensors.Values(views[2])[3]);
        Assert.Equal(-7, TestTensors.Values(views[3])[1 * 6 + 3]);
        Assert.Equal(-7, TestTensors.Values(views[4])[2 * 6 + 3]);
        Assert.Equal(-7, TestTensors.Values(views[5])[3 * 4 + 2]);
        foreach (var v in views) Assert.True(v.SharesStorageWith(x));
    }

    [Fact]
    public void Views_keep_the_memory_alive_after_the_base_is_disposed()
    {
        var x = Arange(3, 4);
        var row = x.Select(0, 1);
        x.Dispose();
        Assert.Equal([4.0, 5, 6, 7], TestTensors.Values(row));
    }

    [Fact]
    public void Chained_views_backpropagate_to_the_right_elements()
    {
        var x = Arange(4, 6);
        x.RequiresGrad = true;
        var y = x.T.Slice(0, 1, 6, 2).Select(1, 3);
        Assert.Equal("SelectBackward", y.GradFnName);
        y.Sum().Backward();
        var grad = TestTensors.Values(x.Grad!);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(i == 3 && j % 2 == 1 ? 1.0 : 0.0, grad[i * 6 + j]);
    }

    [Fact]
    public void View_composition_passes_the_gradient_check()
    {
        var x = OpSampleData(3, 5, 4);
        x.RequiresGrad = true;
        GradCheck.Check(xs => xs[0].Permute(2, 0, 1).Slice(1, 2, null, 2).Select(-1, 1).Unsqueeze(0).Flatten(), [x]);
    }

    [Fact]
    public void Second_derivative_through_a_stepped_slice()
    {
        // loss = sum(x[1::3]^2): its gradient is 2x on positions 1 and 4; the gradient of sum(g * x) is then 4x there.
        var x = OpSampleData(7);
        x.RequiresGrad = true;
        var y = x.Slice(0, 1, null, 3);
        var g = Engine.Grad((y * y).Sum(), x, createGraph: true);
        var gx = TestTensors.Values(g);
        var xv = TestTensors.Values(x);
        for (int i = 0; i < 7; i++) Assert.Equal(i % 3 == 1 ? 2 * xv[i] : 0, gx[i], 12);
        var gg = Engine.Grad((g * x).Sum(), x);
        var ggv = TestTensors.Values(gg);
        for (int i = 0; i < 7; i++) Assert.Equal(i % 3 == 1 ? 4 * xv[i] : 0, ggv[i], 12);
    }

    [Fact]
    public void In_place_change_of_a_view_under_autograd_is_refused_rather_than_silently_wrong()
    {
        var x = OpSampleData(3);
        x.RequiresGrad = true;
        var y = x * 1.0;
        var ex = Assert.Throws<KilnAutogradException>(() => y[0].MulInPlace(Tensor.Scalar(2, DType.Float64)));
        Assert.Contains("view", ex.Message);
        using (Engine.NoGrad()) y[0].MulInPlace(Tensor.Scalar(2, DType.Float64));
        var plain = OpSampleData(3);
        plain.Select(0, 1).AddInPlace(Tensor.Scalar(10, DType.Float64));
        Assert.Equal(OpSampleData(3).ToArray<double>()[1] + 10, plain.ToArray<double>()[1], 12);
    }

    private static Tensor OpSampleData(params int[] shape) => Kiln.Ops.OpSample.Uniform(7, -1, 1, shape);
}
