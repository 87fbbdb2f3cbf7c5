namespace Kiln.Tests.Autograd;

/// <summary>In-place ops and autograd: version counters, saved-tensor checks, and rebased histories.</summary>
public sealed class InPlaceTests
{
    private static Tensor Leaf(params double[] values)
    {
        var x = Tensor.From<double>(values);
        x.RequiresGrad = true;
        return x;
    }

    private static Tensor Scalar(double v) => Tensor.Scalar(v, DType.Float64);

    [Fact]
    public void In_place_ops_bump_the_version_shared_with_views()
    {
        var t = Tensor.From<double>([1, 2, 3, 4]);
        var view = t.Reshape(2, 2);
        Assert.Equal(0, t.Version);
        t.AddInPlace(Scalar(1));
        Assert.Equal(1, t.Version);
        Assert.Equal(1, view.Version);
        view.MulInPlace(Scalar(2));
        Assert.Equal(2, t.Version);
        Assert.Equal([4.0, 6, 8, 10], t.ToArray<double>());
    }

    [Fact]
    public void Changing_a_saved_output_in_place_makes_backward_throw_naming_the_version()
    {
        var x = Leaf(1, 2);
        var y = x.Exp();          // ExpBackward saves y
        var loss = y.Sum();
        using (Engine.NoGrad()) y.MulInPlace(Scalar(2));
        var ex = Assert.Throws<KilnAutogradException>(() => loss.Backward());
        Assert.Contains("ExpBackward", ex.Message);
        Assert.Contains("in-place", ex.Message);
        Assert.Contains("version 1", ex.Message);
        Assert.Contains("expected version 0", ex.Message);
    }

    [Fact]
    public void Changing_a_saved_input_in_place_makes_backward_throw_naming_the_version()
    {
        var w = Leaf(1, 2);
        var c = Tensor.From<double>([3, 4]);
        var loss = (w * c).Sum();  // MulBackward saves c to compute dw
        c.AddInPlace(Scalar(1));
        var ex = Assert.Throws<KilnAutogradException>(() => loss.Backward());
        Assert.Contains("MulBackward", ex.Message);
        Assert.Contains("version", ex.Message);
    }

    [Fact]
    public void Changing_a_saved_tensor_with_grad_enabled_also_throws()
    {
        var x = Leaf(1, 2);
        var y = x.Exp();
        var loss = y.Sum();
        y.AddInPlace(Scalar(1));
        var ex = Assert.Throws<KilnAutogradException>(() => loss.Backward());
        Assert.Contains("ExpBackward", ex.Message);
        Assert.Contains("version", ex.Message);
    }

    [Fact]
    public void Changing_a_leaf_that_requires_grad_in_place_needs_NoGrad()
    {
        var w = Leaf(1, 2);
        var ex = Assert.Throws<KilnAutogradException>(() => w.AddInPlace(Scalar(1)));
        Assert.Contains("NoGrad", ex.Message);
        Assert.Equal([1.0, 2], w.ToArray<double>());
        using (Engine.NoGrad()) w.AddInPlace(Scalar(1));
        Assert.Equal([2.0, 3], w.ToArray<double>());
        Assert.True(w.IsLeaf);
        Assert.True(w.RequiresGrad);
    }

    [Fact]
    public void In_place_op_on_a_non_leaf_is_differentiated()
    {
        var x = Leaf(1, 2);
        var a = x * 2.0;
        a.MulInPlace(Scalar(3));   // a = 6x
        Assert.Equal("MulBackward", a.GradFnName);
        a.AddInPlace(x);           // a = 7x
        (a * a).Sum().Backward();  // d/dx 49x^2 = 98x
        Assert.Equal([98.0, 196], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void In_place_multiply_by_a_tensor_that_requires_grad_uses_the_old_value()
    {
        var x = Leaf(1, 2);
        var w = Leaf(5, 7);
        var a = x * 2.0;
        a.MulInPlace(w);           // a = 2xw: da/dw needs the old a (2x), which the write destroyed
        a.Sum().Backward();
        Assert.Equal([2.0, 4], w.Grad!.ToArray<double>());
        Assert.Equal([10.0, 14], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Ops_recorded_before_an_in_place_change_keep_their_own_history()
    {
        var x = Leaf(1, 2);
        var y = x * 2.0;
        var z = y + 1.0;           // Add does not read y's values, so no version error applies
        y.MulInPlace(Scalar(3));   // y's history now includes the multiply; z's does not
        z.Sum().Backward();
        Assert.Equal([2.0, 2], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void In_place_with_a_grad_input_does_not_change_earlier_uses_of_the_target()
    {
        var buffer = Tensor.From<double>([1, 2]);
        var v = Leaf(3, 4);
        var w = Leaf(5, 6);
        var z = buffer + w;        // recorded while buffer needed no gradient
        buffer.AddInPlace(v);      // buffer now depends on v
        Assert.True(buffer.RequiresGrad);
        z.Sum().Backward();
        Assert.Null(v.Grad);
        Assert.Equal([1.0, 1], w.Grad!.ToArray<double>());
    }

    [Fact]
    public void Writing_in_place_into_a_broadcast_view_throws()
    {
        var row = Tensor.From<float>([1, 2, 3]);
        var expanded = row.Expand(4, 3);
        var ex = Assert.Throws<KilnShapeException>(() => expanded.AddInPlace(Tensor.Ones([4, 3])));
        Assert.Contains("broadcast", ex.Message);
        Assert.Contains("[4, 3]", ex.Message);
        Assert.Equal([1f, 2, 3], row.ToArray<float>());
        var copy = expanded.Clone();
        copy.AddInPlace(Tensor.Ones([4, 3]));
        Assert.Equal(new float[] { 2, 3, 4, 2, 3, 4, 2, 3, 4, 2, 3, 4 }, copy.ToArray<float>());
    }

    [Fact]
    public void In_place_into_a_non_contiguous_view_writes_through_to_the_base()
    {
        var t = Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3);
        var strided = TestTensors.Strided(t);
        strided.MulInPlace(Tensor.From<double>([10, 100, 1000]));
        Assert.Equal([10.0, 200, 3000, 40, 500, 6000], strided.ToArray<double>());
        Assert.Equal(1, strided.Version);
    }
}
