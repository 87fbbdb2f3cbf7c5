using static Kiln.Tests.Ops.ShapeOps.ShapeTestData;

namespace Kiln.Tests.Ops.ShapeOps;

public sealed class IndexingTests
{
    [Fact]
    public void Integer_index_selects_a_row_as_a_view()
    {
        var x = Arange(3, 4);
        var row = x[1];
        Assert.Equal(new Kiln.Shape(4), row.Shape);
        Assert.Equal([4.0, 5, 6, 7], TestTensors.Values(row));
        Assert.True(row.SharesStorageWith(x));
        Assert.Equal("SelectBackward", WithGrad(x)[1].GradFnName);
    }

    [Fact]
    public void Hat_and_negative_indices_count_from_the_end()
    {
        var x = Arange(3, 4);
        Assert.Equal([8.0, 9, 10, 11], TestTensors.Values(x[^1]));
        Assert.Equal([8.0, 9, 10, 11], TestTensors.Values(x[-1]));
        Assert.Equal(Position([3, 4], 1, 2), x[^2, ^2].Item());
        Assert.Equal(0, x[1, 2].Rank);
    }

    [Fact]
    public void Range_keeps_the_dimension()
    {
        var x = Arange(5, 4);
        var rows = x[1..3];
        Assert.Equal(new Kiln.Shape(2, 4), rows.Shape);
        Assert.Equal([4.0, 5, 6, 7, 8, 9, 10, 11], TestTensors.Values(rows));
        var cols = x[.., 1..3];
        Assert.Equal(new Kiln.Shape(5, 2), cols.Shape);
        var values = TestTensors.Values(cols);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(Position([5, 4], i, j + 1), values[i * 2 + j]);
        Assert.Equal(new Kiln.Shape(2, 4), x[^2..].Shape);
        Assert.Equal(new Kiln.Shape(3, 4), x[1..^1].Shape);
        Assert.Equal(new Kiln.Shape(0, 4), x[^0..].Shape);
    }

    [Fact]
    public void Ranges_past_the_ends_are_clamped_like_pytorch()
    {
        var x = Arange(4);
        Assert.Equal([2.0, 3], TestTensors.Values(x[2..10]));
        Assert.Equal([0.0, 1], TestTensors.Values(x[^10..2]));
        Assert.Empty(TestTensors.Values(x[3..1]));
    }

    [Fact]
    public void Mixed_index_selects_slices_and_keeps_the_rest()
    {
        var x = Arange(2, 3, 4);
        var y = x[0, .., 2];
        Assert.Equal(new Kiln.Shape(3), y.Shape);
        Assert.Equal([Position([2, 3, 4], 0, 0, 2), Position([2, 3, 4], 0, 1, 2), Position([2, 3, 4], 0, 2, 2)], TestTensors.Values(y));
        var z = x[1, 1..];
        Assert.Equal(new Kiln.Shape(2, 4), z.Shape);
        Assert.Equal(Position([2, 3, 4], 1, 1, 0), TestTensors.Values(z)[0]);
    }

    [Fact]
    public void Stepped_slice_ellipsis_and_new_axis()
    {
        var x = Arange(2, 3, 6);
        var stepped = x[.., .., TensorIndex.Slice(1, null, 2)];
        Assert.Equal(new Kiln.Shape(2, 3, 3), stepped.Shape);
        Assert.Equal([1.0, 3, 5], TestTensors.Values(stepped[0, 0]));
        var reversedBounds = x[0, 0, TensorIndex.Slice(-4, -1, 2)];
        Assert.Equal([2.0, 4], TestTensors.Values(reversedBounds));
        var last = x[TensorIndex.Ellipsis, 5];
        Assert.Equal(new Kiln.Shape(2, 3), last.Shape);
        Assert.Equal(Position([2, 3, 6], 1, 2, 5), TestTensors.Values(last)[5]);
        var first = x[1, TensorIndex.Ellipsis];
        Assert.Equal(new Kiln.Shape(3, 6), first.Shape);
        var lifted = x[TensorIndex.NewAxis, .., TensorIndex.NewAxis];
        Assert.Equal(new Kiln.Shape(1, 2, 1, 3, 6), lifted.Shape);
        Assert.Equal(TestTensors.Values(x), TestTensors.Values(lifted));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorIndex.Slice(step: 0));
    }

    [Fact]
    public void Indexing_with_nothing_or_only_an_ellipsis_still_gives_a_new_view()
    {
        var x = Arange(2, 2);
        var all = x[TensorIndex.Ellipsis];
        Assert.NotSame(x, all);
        all.Dispose();
        Assert.False(x.IsDisposed);
        Assert.Equal(TestTensors.Values(x), TestTensors.Values(x[..]));
    }

    [Fact]
    public void Out_of_range_index_and_too_many_indices_are_errors()
    {
        var x = Arange(3, 4);
        var ex = Assert.Throws<KilnShapeException>(() => x[3]);
        Assert.Contains("index 3 is out of range for dimension 0 of size 3", ex.Message);
        Assert.Throws<KilnShapeException>(() => x[^4]);
        Assert.Throws<KilnShapeException>(() => x[^0]);
        Assert.Throws<KilnShapeException>(() => x[-4]);
        var many = Assert.Throws<KilnShapeException>(() => x[0, 0, 0]);
        Assert.Contains("[3, 4]", many.Message);
        Assert.Throws<KilnShapeException>(() => x[TensorIndex.Ellipsis, 0, TensorIndex.Ellipsis]);
    }

    [Fact]
    public void Index_gradient_lands_on_the_selected_elements()
    {
        var x = WithGrad(Arange(3, 4));
        x[1..3, ^1].Sum().Backward();
        var grad = TestTensors.Values(x.Grad!);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(i >= 1 && j == 3 ? 1.0 : 0.0, grad[i * 4 + j]);
    }

    [Fact]
    public void Setting_an_index_copies_into_the_base_with_broadcasting()
    {
        var x = Tensor.Zeros([3, 4]);
        x[1] = Tensor.From<float>([1, 2, 3, 4], 4);
        x[.., 0] = Tensor.Scalar(9);
        x[2, 2..] = Tensor.From<double>([-1, -2], 2);
        Assert.Equal([9f, 0, 0, 0, 9, 2, 3, 4, 9, 0, -1, -2], x.ToArray<float>());
        var ex = Assert.Throws<KilnShapeException>(() => x[0] = Tensor.Zeros([3]));
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
    }

    [Fact]
    public void Setting_from_an_overlapping_view_reads_before_writing()
    {
        var x = Tensor.From<float>([1, 2, 3, 4, 5], 5);
        x[1..] = x[..^1];
        Assert.Equal([1f, 1, 2, 3, 4], x.ToArray<float>());
    }

    [Fact]
    public void Setting_bumps_the_version_so_saved_tensors_are_checked()
    {
        var x = Tensor.Zeros([3]);
        int before = x.Version;
        x[0] = Tensor.Scalar(1);
        Assert.True(x.Version > before);
    }

    [Fact]
    public void Setting_into_a_tensor_that_requires_grad_needs_no_grad_mode()
    {
        var w = WithGrad(Tensor.Zeros([2, 2], DType.Float64));
        Assert.Throws<KilnAutogradException>(() => w[0] = Tensor.Scalar(1, DType.Float64));
        using (Engine.NoGrad()) w[0] = Tensor.Scalar(1, DType.Float64);
        Assert.Equal([1.0, 1, 0, 0], w.ToArray<double>());
    }

    [Fact]
    public void Setting_into_a_broadcast_view_is_refused()
    {
        var x = Tensor.Zeros([1, 3]).Expand(4, 3);
        Assert.Throws<KilnShapeException>(() => x[.., 0] = Tensor.Ones([4]));
    }

    private static Tensor WithGrad(Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }
}
