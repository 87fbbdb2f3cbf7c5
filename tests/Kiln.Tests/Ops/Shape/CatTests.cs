using Kiln.Autograd;
using Kiln.Ops;
using static Kiln.Tests.Ops.ShapeOps.ShapeTestData;

namespace Kiln.Tests.Ops.ShapeOps;

public sealed class CatTests
{
    [Fact]
    public void Cat_joins_along_columns()
    {
        var a = Tensor.From<float>([1, 2, 3, 4], 2, 2);
        var b = Tensor.From<float>([5, 6], 2, 1);
        var c = Tensor.Cat([a, b], 1);
        Assert.Equal(new Kiln.Shape(2, 3), c.Shape);
        Assert.Equal([1f, 2, 5, 3, 4, 6], c.ToArray<float>());
    }

    [Fact]
    public void Cat_of_strided_views_copies_the_viewed_elements()
    {
        var x = Arange(3, 4);
        var c = Tensor.Cat([x.T, x.T.Slice(0, 0, 2)], 0);
        Assert.Equal(new Kiln.Shape(6, 3), c.Shape);
        var values = c.ToArray<double>();
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Position([3, 4], j, r % 4), values[r * 3 + j]);
    }

    [Fact]
    public void Cat_promotes_dtypes_and_keeps_integers_exact()
    {
        var a = Tensor.From<long>([1L << 40, 2], 2);
        var b = Tensor.From<int>([3], 1);
        var c = Tensor.Cat([a, b]);
        Assert.Equal(DType.Int64, c.DType);
        Assert.Equal([1L << 40, 2, 3], c.ToArray<long>());
        var f = Tensor.Cat([Tensor.From<int>([1], 1), Tensor.From<float>([0.5f], 1)]);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal([1f, 0.5f], f.ToArray<float>());
    }

    [Fact]
    public void Cat_skips_one_dimensional_empty_tensors()
    {
        var start = Tensor.Zeros([0]);
        var x = Tensor.From<float>([1, 2, 3, 4], 2, 2);
        var c = Tensor.Cat([start, x, start], 1);
        Assert.Equal(new Kiln.Shape(2, 2), c.Shape);
        Assert.Equal([1f, 2, 3, 4], c.ToArray<float>());
    }

    [Fact]
    public void Cat_error_names_the_op_the_dim_and_the_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Cat([Tensor.Zeros([2, 3]), Tensor.Zeros([4, 3])], 1));
        Assert.Contains("Cat: tensors must have the same shape except in dimension 1", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 3]", ex.Message);
        Assert.Contains("differ in dimension 0", ex.Message);
        Assert.Throws<KilnShapeException>(() => Tensor.Cat([Tensor.Zeros([2, 3])], 2));
        Assert.Throws<KilnShapeException>(() => Tensor.Cat([Tensor.Scalar(1), Tensor.Scalar(2)]));
        Assert.Throws<KilnShapeException>(() => Tensor.Cat([]));
    }

    [Fact]
    public void A_variadic_op_refuses_zero_inputs_and_a_fixed_one_a_wrong_count()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Dispatcher.Call(CatOp.Instance, new CatOp.Attributes(0)));
        Assert.Contains("Cat: takes at least 1 inputs, got 0", ex.Message);
        var x = Tensor.Zeros([2]);
        var fixedEx = Assert.Throws<KilnShapeException>(() => Dispatcher.Call(SelectOp.Instance, new SelectOp.Attributes(0, 0), x, x));
        Assert.Contains("Select: takes 1 inputs, got 2", fixedEx.Message);
    }

    [Fact]
    public void Cat_backward_splits_the_gradient_per_input()
    {
        var a = Arange(2, 2);
        var b = Arange(2, 3);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        var weights = Tensor.From<double>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2, 5);
        (Tensor.Cat([a, b], 1) * weights).Sum().Backward();
        Assert.Equal([1.0, 2, 6, 7], a.Grad!.ToArray<double>());
        Assert.Equal([3.0, 4, 5, 8, 9, 10], b.Grad!.ToArray<double>());
    }

    [Fact]
    public void Cat_of_one_tensor_twice_accumulates_both_gradients()
    {
        var a = Arange(3);
        a.RequiresGrad = true;
        var weights = Tensor.From<double>([1, 2, 3, 10, 20, 30], 6);
        (Tensor.Cat([a, a]) * weights).Sum().Backward();
        Assert.Equal([11.0, 22, 33], a.Grad!.ToArray<double>());
    }

    [Fact]
    public void Stack_adds_a_new_dimension()
    {
        var a = Tensor.From<float>([1, 2, 3], 3);
        var b = Tensor.From<float>([4, 5, 6], 3);
        var s0 = Tensor.Stack([a, b]);
        Assert.Equal(new Kiln.Shape(2, 3), s0.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], s0.ToArray<float>());
        var s1 = Tensor.Stack([a, b], -1);
        Assert.Equal(new Kiln.Shape(3, 2), s1.Shape);
        Assert.Equal([1f, 4, 2, 5, 3, 6], s1.ToArray<float>());
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Stack([a, Tensor.Zeros([4])]));
        Assert.Contains("Stack", ex.Message);
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
        Assert.Throws<KilnShapeException>(() => Tensor.Stack([a, b], 2));
    }

    [Fact]
    public void Stack_and_split_pass_the_gradient_check()
    {
        var a = OpSample.Uniform(1, -1, 1, 2, 3);
        var b = OpSample.Uniform(2, -1, 1, 2, 3);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        GradCheck.Check(xs =>
        {
            var s = Tensor.Stack([xs[0], xs[1]], 1);
            var parts = s.Split([1, 2], 2);
            return Tensor.Cat([parts[1].Flatten(), parts[0].Chunk(2, 0)[1].Flatten()]);
        }, [a, b]);
    }

    [Fact]
    public void Split_by_size_leaves_a_smaller_last_piece()
    {
        var x = Arange(7, 2);
        var parts = x.Split(3);
        Assert.Equal(3, parts.Length);
        Assert.Equal(new Kiln.Shape(3, 2), parts[0].Shape);
        Assert.Equal(new Kiln.Shape(1, 2), parts[2].Shape);
        Assert.Equal([12.0, 13], TestTensors.Values(parts[2]));
        foreach (var p in parts) Assert.True(p.SharesStorageWith(x));
        Assert.Throws<KilnShapeException>(() => x.Split(0));
    }

    [Fact]
    public void Split_by_sizes_must_cover_the_dimension()
    {
        var x = Arange(2, 6);
        var parts = x.Split([1, 0, 5], 1);
        Assert.Equal(new Kiln.Shape(2, 1), parts[0].Shape);
        Assert.Equal(new Kiln.Shape(2, 0), parts[1].Shape);
        Assert.Equal([1.0, 2, 3, 4, 5, 7, 8, 9, 10, 11], TestTensors.Values(parts[2]));
        var ex = Assert.Throws<KilnShapeException>(() => x.Split([2, 3], 1));
        Assert.Contains("add up to 5", ex.Message);
    }

    [Fact]
    public void Chunk_uses_ceiling_sized_pieces_like_pytorch()
    {
        var x = Arange(10);
        Assert.Equal([4, 4, 2], x.Chunk(3).Select(p => p.Size(0)).ToArray());
        Assert.Equal([2, 2, 2, 2, 2], x.Chunk(5).Select(p => p.Size(0)).ToArray());
        // ceil(10 / 4) = 3: only 4 pieces, as in PyTorch; ceil(10 / 6) = 2 gives 5 pieces for 6 requested.
        Assert.Equal([3, 3, 3, 1], x.Chunk(4).Select(p => p.Size(0)).ToArray());
        Assert.Equal(5, x.Chunk(6).Length);
        Assert.Throws<KilnShapeException>(() => x.Chunk(0));
    }
}
