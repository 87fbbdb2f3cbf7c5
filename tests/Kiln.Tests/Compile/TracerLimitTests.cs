namespace Kiln.Tests.Compile;

/// <summary>
/// What tracing freezes, written down: the trace records the ops one run of the C# code dispatched,
/// so C# decisions and C# values are fixed at that run. The cases that can be detected are refused
/// with an error; the others are documented here by the behaviour they have.
/// </summary>
public sealed class TracerLimitTests
{
    [Fact]
    public void An_if_on_a_tensor_value_is_refused_because_Item_reads_the_value_during_tracing()
    {
        using var compiled = Engine.Compile(x => x.Sum().Item() > 0 ? x * 2.0 : x * -1.0);
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
        Assert.StartsWith("function: Item() reads a value during tracing; the compiled graph would freeze it — ", e.Message);
        Assert.Equal(0, compiled.TraceCount);
    }

    [Fact]
    public void ToArray_of_a_traced_tensor_is_refused_too()
    {
        using var compiled = Engine.Compile(x => Tensor.From<float>(x.Exp().ToArray<float>()));
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
        Assert.StartsWith("function: ToArray() reads a value during tracing", e.Message);
        using var compiled2 = Engine.Compile(x => Tensor.From<float>(x.ToArray2D<float>()));
        Assert.StartsWith("function: ToArray2D() reads a value", Assert.Throws<KilnException>(() => compiled2.Call(CompileAssert.Uniform(1, 2, 2))).Message);
    }

    [Fact]
    public void A_refusal_the_traced_code_catches_still_fails_the_compile()
    {
        using var compiled = Engine.Compile(x =>
        {
            try
            {
                return x * x.Max().Item();
            }
            catch (KilnException)
            {
                return x;
            }
        });
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
        Assert.Contains("Item() reads a value during tracing", e.Message);
    }

    [Fact]
    public void Reading_a_value_that_is_not_traced_is_allowed()
    {
        using var compiled = Engine.Compile(x => x * Tensor.From<float>([2f, 3f]).Sum().Item());
        var x = CompileAssert.Uniform(1, 2);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(x * 5.0, compiled.Call(x));
    }

    [Fact]
    public void A_branch_on_a_CSharp_flag_is_frozen_along_the_traced_path()
    {
        bool negate = false;
        using var compiled = Engine.Compile(x => negate ? x.Neg() : x.Exp());
        var x = CompileAssert.Uniform(1, 4);
        compiled.Call(x);
        negate = true;
        CompileAssert.SameBits(x.Exp(), compiled.Call(x)); // eager would now negate
    }

    [Fact]
    public void A_branch_on_a_shape_is_a_new_signature_so_each_shape_takes_its_own_path()
    {
        using var compiled = Engine.Compile(x => x.Size(0) > 2 ? x.Neg() : x.Exp());
        var small = CompileAssert.Uniform(1, 2);
        var large = CompileAssert.Uniform(2, 5);
        for (int i = 0; i < 2; i++)
        {
            CompileAssert.SameBits(small.Exp(), compiled.Call(small));
            CompileAssert.SameBits(large.Neg(), compiled.Call(large));
        }
        Assert.Equal(2, compiled.TraceCount);
    }

    [Fact]
    public void A_captured_scalar_that_later_changes_is_frozen_at_its_traced_value()
    {
        double scale = 2;
        using var compiled = Engine.Compile(x => x * scale);
        var x = CompileAssert.Uniform(1, 4);
        compiled.Call(x);
        scale = 3;
        CompileAssert.SameBits(x * 2.0, compiled.Call(x));
        Assert.Contains("const %c0: [] f32 = 2", compiled.GraphText);
    }

    [Fact]
    public void A_captured_tensor_is_copied_so_a_later_change_is_not_seen()
    {
        var offset = Tensor.From<float>([1f, 2f, 3f, 4f]);
        using var compiled = Engine.Compile(x => x + offset);
        var x = CompileAssert.Uniform(1, 4);
        compiled.Call(x);
        offset.MulInPlace(Tensor.Scalar(10));
        CompileAssert.SameBits(x + Tensor.From<float>([1f, 2f, 3f, 4f]), compiled.Call(x));
    }

    [Fact]
    public void A_captured_tensor_that_requires_grad_is_a_parameter_read_at_every_call()
    {
        var weight = CompileAssert.Uniform(5, 4);
        weight.RequiresGrad = true;
        using var compiled = Engine.Compile(x => x * weight);
        var x = CompileAssert.Uniform(1, 4);
        compiled.Call(x);
        using (Engine.NoGrad())
        {
            weight.MulInPlace(Tensor.Scalar(10));
            CompileAssert.SameBits(x * weight, compiled.Call(x));
        }
        Assert.Contains("param @param0: [4] f32", compiled.GraphText);
    }

    [Fact]
    public void Random_draws_are_refused_naming_the_draw()
    {
        using var compiled = Engine.Compile(x => x + Tensor.RandnLike(x));
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
        Assert.StartsWith("function: Randn draws from the random stream during tracing", e.Message);
    }

    [Fact]
    public void An_in_place_op_on_an_intermediate_becomes_a_new_value()
    {
        Func<Tensor, Tensor> f = x =>
        {
            var y = x * 2.0;
            y.AddInPlace(x);
            return y.ReluInPlace();
        };
        using var compiled = Engine.Compile(f);
        var x = CompileAssert.Uniform(1, 6);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(f(x), compiled.Call(x));
    }

    [Fact]
    public void An_in_place_op_on_an_input_or_a_view_is_refused()
    {
        using var onInput = Engine.Compile(x => x.AddInPlace(Tensor.Scalar(1)));
        var x = CompileAssert.Uniform(1, 6);
        var before = x.ToArray<float>();
        var e = Assert.Throws<KilnException>(() => onInput.Call(x));
        Assert.Contains("Add writes in place into a graph input ([6] f32)", e.Message);
        Assert.Equal(before, x.ToArray<float>()); // refused before the write

        using var onView = Engine.Compile(x =>
        {
            var y = x * 2.0;
            var row = y.Reshape(2, 3);
            row.AddInPlace(Tensor.Scalar(1));
            return y;
        });
        Assert.Contains("shares memory with a view", Assert.Throws<KilnException>(() => onView.Call(x)).Message);
    }

    [Fact]
    public void Index_assignment_into_a_traced_tensor_is_refused()
    {
        using var compiled = Engine.Compile(x =>
        {
            var y = x * 1.5;
            y[0] = Tensor.Scalar(0);
            return y;
        });
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
        Assert.Contains("index assignment writes into a tensor used by the trace", e.Message);
    }

    [Fact]
    public void Detach_of_a_traced_tensor_stands_for_the_same_value()
    {
        Func<Tensor, Tensor> f = x => (x.Exp().Detach() + x).Detach() * 2.0;
        using var compiled = Engine.Compile(f);
        var x = CompileAssert.Uniform(1, 4);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(f(x), compiled.Call(x));
    }

    [Fact]
    public void A_function_returning_null_is_refused()
    {
        using var compiled = Engine.Compile((Tensor[] xs) => null!);
        var e = Assert.Throws<KilnException>(() => compiled.Invoke(CompileAssert.Uniform(1, 4)));
        Assert.Contains("returned null", e.Message);
    }

    [Fact]
    public void Scopes_inside_the_traced_code_may_release_intermediates_whose_memory_new_tensors_reuse()
    {
        Func<Tensor, Tensor> f = x =>
        {
            Tensor kept;
            using (var scope = Engine.Scope())
            {
                var a = x.Exp();
                kept = scope.Keep(a.Neg() * 2.0);
            }
            // Made after the scope freed Exp's result: may get its storage object, and is a constant all the same.
            var offsets = Tensor.From<float>([1f, 2f, 3f, 4f]);
            return kept + offsets;
        };
        using var compiled = Engine.Compile(f);
        var x = CompileAssert.Uniform(1, 4);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(f(x), compiled.Call(x));
        Assert.Contains("const %c1: [4] f32 = [1, 2, 3, 4]", compiled.GraphText);
    }
}
