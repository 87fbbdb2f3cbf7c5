using Kiln.Autograd;

namespace Kiln.Tests.Ops.Elementwise;

/// <summary>Behaviours of the elementwise ops that the registry-driven conformance suite does not cover.</summary>
public sealed class ElementwiseOpTests
{
    private static Tensor F32(params float[] values) => Tensor.From<float>(values);
    private static Tensor F64(params double[] values) => Tensor.From<double>(values);
    private static Tensor Leaf(params double[] values)
    {
        var t = Tensor.From<double>(values);
        t.RequiresGrad = true;
        return t;
    }

    private static void AssertValues(double[] expected, Tensor actual, double tolerance = 1e-6)
        => TestTensors.AssertClose(expected, TestTensors.Values(actual), tolerance, tolerance, "values");

    // ---- arithmetic operators, scalars and promotion ----

    [Fact]
    public void Sub_and_div_operators_take_scalars_on_either_side()
    {
        var x = F32(1, 2, 4);
        AssertValues([0, 1, 3], x - 1);
        AssertValues([0, -1, -3], 1 - x);
        AssertValues([0.5, 1, 2], x / 2);
        AssertValues([2, 1, 0.5], 2 / x);
        AssertValues([-1, -2, -4], -x);
        AssertValues([-3, 0, 3], x - F32(4, 2, 1));
        AssertValues([0.25, 1, 4], x / F32(4, 2, 1));
        Assert.Equal(DType.Float32, (x - 1).DType);
    }

    [Fact]
    public void Int_tensor_with_a_fractional_scalar_gives_float32_and_with_an_integral_one_stays_int()
    {
        var i = Tensor.From(new int[] { 1, 2, 3 });
        var fractional = i - 0.5;
        Assert.Equal(DType.Float32, fractional.DType);
        AssertValues([0.5, 1.5, 2.5], fractional);
        var integral = i - 1;
        Assert.Equal(DType.Int32, integral.DType);
        Assert.Equal([0, 1, 2], integral.ToArray<int>());
    }

    [Fact]
    public void Int_and_float_tensors_promote_to_float()
    {
        var i = Tensor.From(new int[] { 1, 2, 3 });
        var sum = i.Sub(F32(0.5f, 0.5f, 0.5f));
        Assert.Equal(DType.Float32, sum.DType);
        AssertValues([0.5, 1.5, 2.5], sum);
        var wide = Tensor.From(new long[] { 4, 6 }).Sub(F64(0.25, 0.5));
        Assert.Equal(DType.Float64, wide.DType);
        AssertValues([3.75, 5.5], wide);
        var maximum = Tensor.From(new int[] { 1, 5 }).Maximum(F32(2.5f, 2.5f));
        Assert.Equal(DType.Float32, maximum.DType);
        AssertValues([2.5, 5], maximum);
    }

    [Fact]
    public void Division_of_integers_is_true_division_in_float32()
    {
        var q = Tensor.From(new int[] { 1, 2, 3 }) / Tensor.From(new int[] { 2, 2, 2 });
        Assert.Equal(DType.Float32, q.DType);
        AssertValues([0.5, 1, 1.5], q);
        AssertValues([0.5, 1, 1.5], Tensor.From(new long[] { 1, 2, 3 }) / 2);
    }

    [Fact]
    public void Mismatched_shapes_name_the_op_and_both_shapes()
    {
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([4]);
        foreach (var (op, call) in new (string, Func<Tensor>)[] { ("Sub", () => a - b), ("Div", () => a / b), ("Maximum", () => a.Maximum(b)), ("Pow", () => a.Pow(b)), ("Lt", () => a.Lt(b)) })
        {
            var ex = Assert.Throws<KilnShapeException>(call);
            Assert.Contains(op, ex.Message);
            Assert.Contains("[2, 3]", ex.Message);
            Assert.Contains("[4]", ex.Message);
        }
    }

    [Fact]
    public void Integer_ops_keep_integer_dtypes()
    {
        var i = Tensor.From(new long[] { -3, 0, 4 });
        Assert.Equal([3L, 0, -4], (-i).ToArray<long>());
        Assert.Equal([3L, 0, 4], i.Abs().ToArray<long>());
        Assert.Equal([0L, 0, 4], i.Relu().ToArray<long>());
        Assert.Equal([-1L, 0, 1], i.Clamp(-1, 1).ToArray<long>());
        Assert.Equal([-3L, 0, 3], i.Minimum(Tensor.From(new long[] { 5, 5, 3 })).ToArray<long>());
        var sqrt = Tensor.From(new int[] { 4, 9 }).Sqrt();
        Assert.Equal(DType.Float32, sqrt.DType);
        AssertValues([2, 3], sqrt);
    }

    [Fact]
    public void Math_functions_match_known_values()
    {
        AssertValues([2, 0.5], F64(4, 16).Sqrt().Mul(F64(1, 0.125)));
        AssertValues([0.5, 0.25], F64(4, 16).Rsqrt());
        AssertValues([0, 1], F64(1, Math.E).Log());
        AssertValues([0.5, 1 / (1 + Math.Exp(-2))], F64(0, 2).Sigmoid(), 1e-12);
        AssertValues([0, Math.Tanh(0.5)], F64(0, 0.5).Tanh(), 1e-12);
        AssertValues([Math.Sin(1), Math.Cos(1)], F64(1, 1).Sin().Mul(F64(1, 0)).Add(F64(1, 1).Cos().Mul(F64(0, 1))), 1e-12);
        AssertValues([-0.2, 3], F32(-2, 3).LeakyRelu(0.1));
        AssertValues([Math.Exp(-1) - 1, 2], F64(-1, 2).Elu(), 1e-12);
        AssertValues([0.5 * (Math.Exp(-1) - 1), 2], F64(-1, 2).Elu(0.5), 1e-12);
        AssertValues([8, 0.25], F64(2, 4).Pow(F64(3, -1)), 1e-12);
        AssertValues([1, 4, 9], F64(1, 2, 3).Pow(2), 1e-12);
    }

    [Fact]
    public void Erf_matches_known_values()
    {
        // Values from the C library's erf (Python's math.erf).
        double[] x = [0.5, 1, -2, 3, 1e-10, 2.5];
        double[] expected = [0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999779095030014, 1.1283791670955126e-10, 0.999593047982555];
        AssertValues(expected, F64(x).Erf(), 1e-14);
        AssertValues(expected, Tensor.From<double>(x).To(DType.Float32).Erf(), 1e-7);
    }

    // ---- Gelu ----

    [Fact]
    public void Gelu_matches_known_values_in_both_forms()
    {
        Assert.Equal(0.8413447, F32(1).Gelu().Item(), 6);
        Assert.Equal(0.8411920, F32(1).Gelu(GeluApproximation.Tanh).Item(), 6);
        // Values from x * erfc(-x / sqrt 2) / 2 with the C library's erfc (Python).
        AssertValues([0.8413447460685429, -0.15865525393145707, 0.34573123063700656, -0.004049694094890287, 2.99595030590511],
            F64(1, -1, 0.5, -3, 3).Gelu(), 1e-13);
        AssertValues([0.8411919906082768, -0.15880800939172324, 0.34571400982514394, -0.0036373920817729943, 2.996362607918227],
            F64(1, -1, 0.5, -3, 3).Gelu(GeluApproximation.Tanh), 1e-13);
    }

    [Fact]
    public void Gelu_keeps_relative_accuracy_for_large_negative_inputs()
    {
        var y = F64(-10).Gelu().Item();
        Assert.True(Math.Abs(y / -7.619853024160593e-23 - 1) < 1e-10, $"Gelu(-10) = {y:G17}");
        Assert.True(F64(-10).Gelu(GeluApproximation.Tanh).Item() is <= 0 and > -1e-30);
    }

    [Fact]
    public void Gelu_gradients_match_finite_differences_in_both_forms()
    {
        GradCheck.Check(xs => xs[0].Gelu(), [Leaf(-4, -1.5, -0.2, 0.3, 1, 2.5, 6)]);
        GradCheck.Check(xs => xs[0].Gelu(GeluApproximation.Tanh), [Leaf(-4, -1.5, -0.2, 0.3, 1, 2.5, 6)]);
    }

    // ---- comparisons and logic ----

    [Fact]
    public void Comparisons_give_bool_tensors_with_ieee_nan_rules()
    {
        var x = F32(1, 2, 3, float.NaN);
        var y = F32(3, 2, 1, float.NaN);
        Assert.Equal([false, true, false, false], x.Eq(y).ToArray<bool>());
        Assert.Equal([true, false, true, true], x.Ne(y).ToArray<bool>());
        Assert.Equal([true, false, false, false], x.Lt(y).ToArray<bool>());
        Assert.Equal([true, true, false, false], x.Le(y).ToArray<bool>());
        Assert.Equal([false, false, true, false], x.Gt(y).ToArray<bool>());
        Assert.Equal([false, true, true, false], x.Ge(y).ToArray<bool>());
        Assert.Equal(DType.Bool, x.Eq(y).DType);
    }

    [Fact]
    public void Comparisons_broadcast_and_take_scalars()
    {
        var x = Tensor.From<double>([0.1, 0.5, 0.9, -1, 2, 0.5], 2, 3);
        Assert.Equal([false, false, true, false, true, false], x.Gt(0.5).ToArray<bool>());
        Assert.Equal([true, true, false, true, false, true], x.Le(0.5).ToArray<bool>());
        var row = F64(0, 0.5, 1);
        Assert.Equal([false, false, true, true, false, true], x.Lt(row).ToArray<bool>());
        Assert.Equal([false, false, true, true, false, true], x.Ge(row).LogicalNot().ToArray<bool>());
        Assert.Equal(new Shape(2, 3), x.Lt(row).Shape);
        // An int tensor against a fractional scalar compares in float: 0 < 0.5.
        Assert.Equal([true, false], Tensor.From(new int[] { 0, 1 }).Lt(0.5).ToArray<bool>());
    }

    [Fact]
    public void Comparisons_do_not_track_gradients()
    {
        var x = Leaf(-1, 1);
        var mask = x.Gt(0);
        Assert.False(mask.RequiresGrad);
        Assert.Null(mask.GradFnName);
    }

    [Fact]
    public void Logical_ops_follow_their_truth_tables()
    {
        var a = Tensor.From(new bool[] { false, false, true, true });
        var b = Tensor.From(new bool[] { false, true, false, true });
        Assert.Equal([false, false, false, true], a.LogicalAnd(b).ToArray<bool>());
        Assert.Equal([false, true, true, true], a.LogicalOr(b).ToArray<bool>());
        Assert.Equal([false, true, true, false], a.LogicalXor(b).ToArray<bool>());
        Assert.Equal([true, true, false, false], a.LogicalNot().ToArray<bool>());
        // Other dtypes count as true where non-zero.
        Assert.Equal([true, false, false], F32(0, 2, -0.5f).LogicalNot().ToArray<bool>());
        Assert.Equal([false, true], Tensor.From(new int[] { 3, 0 }).LogicalXor(Tensor.From(new bool[] { true, true })).ToArray<bool>());
    }

    // ---- Where ----

    [Fact]
    public void Where_broadcasts_all_three_inputs_and_sends_gradients_where_chosen()
    {
        var condition = Tensor.From<bool>([true, false], 2, 1);
        var a = Leaf(1, 2, 3);
        var b = Leaf(-7);
        var y = Tensor.Where(condition, a, b);
        Assert.Equal(new Shape(2, 3), y.Shape);
        AssertValues([1, 2, 3, -7, -7, -7], y);
        (y * F64(1, 2, 3)).Sum().Backward();
        AssertValues([1, 2, 3], a.Grad!);
        AssertValues([6], b.Grad!.Reshape(1));
    }

    [Fact]
    public void Where_with_a_scalar_and_nan_in_the_unchosen_branch()
    {
        var x = F64(double.NaN, 2, -3);
        var y = Tensor.Where(x.Gt(0), x, 0.0);
        AssertValues([0, 2, 0], y);
        Assert.Equal(DType.Float64, y.DType);
    }

    [Fact]
    public void Where_needs_a_bool_condition()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Where(F32(1, 0), F32(1, 2), F32(3, 4)));
        Assert.Contains("Where", ex.Message);
        Assert.Contains("bool", ex.Message);
    }

    // ---- Maximum, Minimum, Clamp ----

    [Fact]
    public void Maximum_and_minimum_split_the_gradient_at_ties()
    {
        var a = Leaf(1, 2, 3);
        var b = Leaf(3, 2, 1);
        a.Maximum(b).Sum().Backward();
        AssertValues([0, 0.5, 1], a.Grad!);
        AssertValues([1, 0.5, 0], b.Grad!);
        var c = Leaf(1, 2, 3);
        var d = Leaf(3, 2, 1);
        c.Minimum(d).Sum().Backward();
        AssertValues([1, 0.5, 0], c.Grad!);
        AssertValues([0, 0.5, 1], d.Grad!);
    }

    [Fact]
    public void Maximum_and_minimum_propagate_nan()
    {
        AssertValues([double.NaN, 2], F32(float.NaN, 1).Maximum(F32(0, 2)));
        AssertValues([double.NaN, 1], F32(float.NaN, 1).Minimum(F32(0, 2)));
    }

    [Fact]
    public void Clamp_passes_the_gradient_inside_the_closed_interval()
    {
        var x = Leaf(-2, -1, 0, 1, 2);
        var y = x.Clamp(-1, 1);
        AssertValues([-1, -1, 0, 1, 1], y);
        y.Sum().Backward();
        AssertValues([0, 1, 1, 1, 0], x.Grad!);
    }

    [Fact]
    public void Clamp_with_one_bound_with_min_above_max_and_with_nan()
    {
        AssertValues([0, 0, 3], F32(-2, 0, 3).Clamp(min: 0));
        AssertValues([-2, 0, 1], F32(-2, 0, 3).Clamp(max: 1));
        AssertValues([-1, -1, -1], F32(-2, 0, 3).Clamp(1, -1));
        AssertValues([double.NaN, 1], F32(float.NaN, 5).Clamp(0, 1));
        Assert.Equal(DType.Float32, Tensor.From(new int[] { 1, 5 }).Clamp(0, 2.5).DType);
        Assert.Throws<KilnShapeException>(() => F32(1).Clamp());
    }

    [Fact]
    public void Clamp_with_tensor_bounds_broadcasts_and_routes_gradients()
    {
        var x = Leaf(-3, 0.5, 4, 1);
        var low = Leaf(-1);
        var high = Leaf(2, 2, 2, 1);
        var y = x.Clamp(low, high);
        AssertValues([-1, 0.5, 2, 1], y);
        y.Sum().Backward();
        AssertValues([0, 1, 0, 1], x.Grad!);
        AssertValues([1], low.Grad!.Reshape(1));
        AssertValues([0, 0, 1, 0], high.Grad!);
    }

    // ---- composites ----

    [Fact]
    public void Softplus_matches_log1p_exp_and_passes_large_inputs_through()
    {
        var x = Leaf(-30, -1, 0, 1, 30);
        var y = x.Softplus();
        // log1p(e^x) from the C library (Python); e^-30 vanishes next to 1 in log(1 + e^x), so only its absolute size is checked.
        AssertValues([9.357622968839737e-14, 0.31326168751822286, 0.6931471805599453, 1.3132616875182228, 30], y, 1e-12);
        y.Sum().Backward();
        double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        AssertValues([Sigmoid(-30), Sigmoid(-1), 0.5, Sigmoid(1), 1], x.Grad!, 1e-12);
        AssertValues([Math.Log(1 + Math.Exp(2 * 0.5)) / 2], F64(0.5).Softplus(beta: 2), 1e-12);
        GradCheck.Check(xs => xs[0].Softplus(beta: 1.5, threshold: 3), [Leaf(-3, -0.7, 0.2, 1.1, 1.9, 2.5)]);
    }

    [Fact]
    public void Silu_is_x_times_sigmoid_x()
    {
        AssertValues([-1 / (1 + Math.E), 0, 2 / (1 + Math.Exp(-2))], F64(-1, 0, 2).Silu(), 1e-12);
        GradCheck.Check(xs => xs[0].Silu(), [Leaf(-3, -0.5, 0.4, 2)]);
    }

    // ---- Pow gradients ----

    [Fact]
    public void Pow_gradients_for_scalar_and_tensor_exponents()
    {
        var x = Leaf(1, 2, 3);
        x.Pow(2).Sum().Backward();
        AssertValues([2, 4, 6], x.Grad!, 1e-12);

        var b = Leaf(2);
        var e = Leaf(3);
        b.Pow(e).Sum().Backward();
        AssertValues([12], b.Grad!, 1e-12);
        AssertValues([8 * Math.Log(2)], e.Grad!, 1e-12);
    }

    [Fact]
    public void Pow_at_zero_base_gives_finite_gradients()
    {
        var x = Leaf(0, 0);
        var e = Leaf(0, 2);
        x.Pow(e).Sum().Backward();
        AssertValues([0, 0], x.Grad!);
        AssertValues([0, 0], e.Grad!);
    }

    // ---- in place ----

    [Fact]
    public void Arithmetic_in_place_with_tensors_and_scalars_updates_values_and_version()
    {
        var x = F32(1, 2, 3);
        int v = x.Version;
        x.AddInPlace(1).SubInPlace(F32(1, 1, 1)).MulInPlace(4).DivInPlace(F32(2, 4, 6)).SubInPlace(0.5).DivInPlace(2);
        AssertValues([0.75, 0.75, 0.75], x);
        Assert.Equal(v + 6, x.Version);
        x.MulInPlace(F32(2, 2, 2)).AddInPlace(F32(0, 1, 2));
        AssertValues([1.5, 2.5, 3.5], x);
        x.NegInPlace();
        AssertValues([-1.5, -2.5, -3.5], x);
        x.ClampInPlace(-3, -2);
        AssertValues([-2, -2.5, -3], x);
        x.ReluInPlace();
        AssertValues([0, 0, 0], x);
        x.FillInPlace(0.5f).ExpInPlace();
        AssertValues([Math.Exp(0.5), Math.Exp(0.5), Math.Exp(0.5)], x);
        x.ZeroInPlace();
        AssertValues([0, 0, 0], x);
    }

    [Fact]
    public void In_place_change_of_a_saved_output_makes_backward_throw_naming_the_version()
    {
        var x = Leaf(0.5, 1);
        var y = x.Exp();
        y.AddInPlace(1);
        var ex = Assert.Throws<KilnAutogradException>(() => y.Sum().Backward());
        Assert.Contains("version", ex.Message);
    }

    [Fact]
    public void In_place_change_of_a_saved_input_makes_backward_throw_naming_the_version()
    {
        var x = Leaf(0.5, 1);
        var h = x.Sin();
        var z = h * x;
        h.SubInPlace(1);
        var ex = Assert.Throws<KilnAutogradException>(() => z.Sum().Backward());
        Assert.Contains("version", ex.Message);
        Assert.Contains("MulBackward", ex.Message);
    }

    [Fact]
    public void In_place_on_a_leaf_that_requires_grad_throws_unless_under_no_grad()
    {
        var x = Leaf(1, -2);
        foreach (var change in new Action[] { () => x.AddInPlace(1), () => x.SubInPlace(1), () => x.MulInPlace(2), () => x.DivInPlace(2),
                     () => x.ReluInPlace(), () => x.ClampInPlace(0, 1), () => x.FillInPlace(3), () => x.ZeroInPlace() })
            Assert.Throws<KilnAutogradException>(change);
        AssertValues([1, -2], x);
        using (Engine.NoGrad())
        {
            x.SubInPlace(1).ReluInPlace();
        }
        AssertValues([0, 0], x);
        Assert.True(x.IsLeaf);
    }

    [Fact]
    public void Relu_in_place_on_a_non_leaf_keeps_gradients_right()
    {
        var x = Leaf(-1, 2, 3);
        var y = x * 2;
        y.ReluInPlace();
        Assert.Equal("ReluBackward", y.GradFnName);
        (y * y).Sum().Backward();
        // d/dx relu(2x)^2 = 8x where x > 0.
        AssertValues([0, 16, 24], x.Grad!);
    }

    [Fact]
    public void In_place_ops_that_read_the_old_value_in_backward_differentiate_it()
    {
        var x = Leaf(1, 2);
        var y = x.Sin();
        y.DivInPlace(x);
        y.Sum().Backward();
        // d/dx sin(x) / x = cos(x) / x - sin(x) / x^2.
        AssertValues([Math.Cos(1) - Math.Sin(1), Math.Cos(2) / 2 - Math.Sin(2) / 4], x.Grad!, 1e-12);

        var w = Leaf(-2, 0.5, 3);
        var z = w * 3;
        z.ClampInPlace(-1, 2);
        z.MulInPlace(z);
        z.Sum().Backward();
        // z = clamp(3w)^2: gradient 2 * 1.5 * 3 = 9 at w = 0.5; 0 where the clamp is active.
        AssertValues([0, 9, 0], w.Grad!, 1e-12);
    }

    [Fact]
    public void Fill_in_place_cuts_the_gradient_to_the_old_value()
    {
        var x = Leaf(1, 2);
        var y = x * 2;
        y.FillInPlace(5);
        AssertValues([5, 5], y);
        (y * x).Sum().Backward();
        AssertValues([5, 5], x.Grad!);
    }
}
