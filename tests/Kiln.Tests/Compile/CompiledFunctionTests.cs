using Kiln.NN;

namespace Kiln.Tests.Compile;

public sealed class CompiledFunctionTests
{
    [Fact]
    public void Compiled_function_equals_eager_on_the_trace_call_and_on_replays()
    {
        Func<Tensor, Tensor> f = x => (x * 2.0 + 1.0).Relu().Sum(1);
        using var compiled = Engine.Compile(f);
        for (int seed = 0; seed < 4; seed++)
        {
            using var x = CompileAssert.Uniform(seed, 5, 7);
            CompileAssert.SameBits(f(x), compiled.Call(x), $"call {seed}");
        }
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void A_new_shape_traces_again_and_a_seen_shape_does_not()
    {
        int runs = 0;
        using var compiled = Engine.Compile(x =>
        {
            runs++;
            return x.Exp();
        });
        compiled.Call(CompileAssert.Uniform(1, 2, 3));
        compiled.Call(CompileAssert.Uniform(2, 2, 3));
        Assert.Equal(1, compiled.TraceCount);
        compiled.Call(CompileAssert.Uniform(3, 4, 3));
        Assert.Equal(2, compiled.TraceCount);
        compiled.Call(CompileAssert.Uniform(4, 2, 3));
        compiled.Call(CompileAssert.Uniform(5, 4, 3));
        compiled.Call(CompileAssert.Uniform(6, 2, 3).To(DType.Float64));
        Assert.Equal(3, compiled.TraceCount);
        Assert.Equal(3, runs);
    }

    [Fact]
    public void A_strided_input_traces_apart_from_a_contiguous_one_and_both_replay_right()
    {
        Func<Tensor, Tensor> f = x => x.Reshape(-1) * 3.0;
        using var compiled = Engine.Compile(f);
        var dense = CompileAssert.Uniform(1, 4, 6);
        var strided = CompileAssert.Uniform(2, 6, 4).Transpose(0, 1);
        CompileAssert.SameBits(f(dense), compiled.Call(dense));
        CompileAssert.SameBits(f(strided), compiled.Call(strided));
        Assert.Equal(2, compiled.TraceCount);
        var strided2 = CompileAssert.Uniform(3, 6, 4).Transpose(0, 1);
        CompileAssert.SameBits(f(strided2), compiled.Call(strided2));
        CompileAssert.SameBits(f(dense), compiled.Call(dense));
        Assert.Equal(2, compiled.TraceCount);
    }

    [Theory]
    [InlineData("broadcast")]
    [InlineData("views")]
    [InlineData("slicing")]
    [InlineData("reductions")]
    [InlineData("softmax")]
    [InlineData("comparisons")]
    [InlineData("view of input returned")]
    [InlineData("concatenation")]
    public void Odd_functions_compile_to_the_eager_bits(string name)
    {
        var bias = CompileAssert.Uniform(99, 7);
        Func<Tensor, Tensor> f = name switch
        {
            "broadcast" => x => x * bias + x.Mean(1, keepDim: true) - 0.5,
            "views" => x => x.Transpose(0, 1).Reshape(7, 5).Permute(1, 0).Unsqueeze(0).Squeeze(0).Exp(),
            "slicing" => x => x[1..4, ..].Sum(0) + x.Select(0, 0) * x[.., 2..3].Sum(),
            "reductions" => x => x.Max(1) + x.ArgMax(1).To(DType.Float32) + x.Var(0).Sum() + x.Std(1) * x.Prod(1) + x.LogSumExp(1),
            "softmax" => x => F.Softmax(x, 1) + F.LogSoftmax(x * 3.0, 0).Transpose(0, 1).Sum(0).Unsqueeze(1),
            "comparisons" => x => Tensor.Where(x.Gt(0), x, x * 0.1) + x.Ge(0.5).To(DType.Float32),
            "concatenation" => x => Tensor.Cat([x, x * 2.0, x[..1, ..]], 0).Sum(1) + Tensor.Stack([x, x.Neg()], 2).Sum(2).Sum(1).Sum(),
            _ => x => x.Reshape(7, 5),
        };
        using var compiled = Engine.Compile(f);
        for (int seed = 0; seed < 3; seed++)
        {
            var x = CompileAssert.Uniform(seed, 5, 7);
            CompileAssert.SameBits(f(x), compiled.Call(x), $"{name}, call {seed}");
        }
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void Two_input_and_many_output_functions_compile()
    {
        using var two = Engine.Compile((a, b) => a.MatMul(b).Tanh());
        var a = CompileAssert.Uniform(1, 3, 4);
        var b = CompileAssert.Uniform(2, 4, 5);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(a.MatMul(b).Tanh(), two.Call(a, b));

        Func<Tensor[], Tensor[]> many = xs => [xs[0] + xs[1], xs[0], (xs[0] + xs[1]).Reshape(-1), xs[0] + xs[1]];
        using var compiled = Engine.Compile(many);
        for (int i = 0; i < 2; i++)
        {
            var results = compiled.Invoke(a, a * 2.0);
            var expected = many([a, a * 2.0]);
            Assert.Equal(4, results.Length);
            for (int k = 0; k < 4; k++) CompileAssert.SameBits(expected[k], results[k], $"output {k}, call {i}");
            // Every result is a tensor of its own: the input is copied, the shared value handed back twice is two tensors.
            Assert.False(results[1].SharesStorageWith(a));
            Assert.False(results[0].SharesStorageWith(results[3]));
            Assert.False(results[0].SharesStorageWith(results[2]));
        }
        var e = Assert.Throws<ArgumentException>(() => compiled.Call(a, a * 2.0));
        Assert.Contains("returns 4 tensors, but this call takes 1; use Invoke", e.Message);
    }

    [Fact]
    public void The_same_tensor_passed_twice_traces_as_two_inputs()
    {
        using var compiled = Engine.Compile((a, b) => a - b * 2.0);
        var x = CompileAssert.Uniform(1, 6);
        var y = CompileAssert.Uniform(2, 6);
        CompileAssert.SameBits(x - x * 2.0, compiled.Call(x, x));
        CompileAssert.SameBits(x - y * 2.0, compiled.Call(x, y));
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void CallInto_writes_into_the_given_tensor_and_checks_it()
    {
        using var compiled = Engine.Compile(x => x.Sigmoid() * 4.0);
        var x = CompileAssert.Uniform(1, 3, 8);
        using var output = Tensor.Zeros([3, 8]);
        compiled.CallInto(x, output); // the trace call
        CompileAssert.SameBits(x.Sigmoid() * 4.0, output);
        var x2 = CompileAssert.Uniform(2, 3, 8);
        compiled.CallInto(x2, output);
        CompileAssert.SameBits(x2.Sigmoid() * 4.0, output);
        var wrongShape = Assert.Throws<ArgumentException>(() => compiled.CallInto(x, Tensor.Zeros([8, 3])));
        Assert.Contains("must be a contiguous [3,8] f32 tensor, got [8,3] f32", wrongShape.Message);
        Assert.Throws<ArgumentException>(() => compiled.CallInto(x, Tensor.Zeros([8, 3]).Transpose(0, 1)));
        Assert.Throws<ArgumentException>(() => compiled.CallInto(x, x));
    }

    [Fact]
    public void An_input_that_requires_grad_is_refused_while_gradients_are_on()
    {
        using var compiled = Engine.Compile(x => x * 2.0);
        var x = CompileAssert.Uniform(1, 3);
        x.RequiresGrad = true;
        var e = Assert.Throws<KilnException>(() => compiled.Call(x));
        Assert.Contains("input 0 ([3] f32) requires grad, but compiled functions run inference only", e.Message);
        using (Engine.NoGrad())
        {
            var y = compiled.Call(x);
            Assert.False(y.RequiresGrad);
            CompileAssert.SameBits(x.Detach() * 2.0, y);
        }
    }

    [Fact]
    public void A_compiled_function_called_while_another_traces_is_inlined_into_the_outer_graph()
    {
        using var inner = Engine.Compile(x => x.Exp());
        using var outer = Engine.Compile(x => inner.Call(x) + 1.0);
        var x = CompileAssert.Uniform(1, 4);
        for (int i = 0; i < 2; i++) CompileAssert.SameBits(x.Exp() + 1.0, outer.Call(x));
        Assert.Contains("= FusedElementwise(%in0, %c0) { s0 = Exp(in0) : [4] f32; s1 = Add(s0, in1) : [4] f32 }", outer.GraphText);
        Assert.Equal(0, inner.TraceCount);
    }

    [Fact]
    public void GraphText_before_the_first_call_says_why_there_is_none()
    {
        using var compiled = Engine.Compile(x => x.Exp());
        var e = Assert.Throws<InvalidOperationException>(() => compiled.GraphText);
        Assert.Contains("has not been called yet", e.Message);
    }

    [Fact]
    public void A_disposed_compiled_function_refuses_calls()
    {
        var compiled = Engine.Compile(x => x.Exp());
        compiled.Call(CompileAssert.Uniform(1, 4));
        compiled.Dispose();
        Assert.Throws<ObjectDisposedException>(() => compiled.Call(CompileAssert.Uniform(1, 4)));
    }

    [Fact]
    public void At_most_a_few_signatures_are_kept()
    {
        using var compiled = Engine.Compile(x => x.Exp());
        for (int n = 1; n <= Kiln.Compile.CompiledFunction.MaxSignatures + 1; n++) compiled.Call(CompileAssert.Uniform(n, n));
        Assert.Equal(Kiln.Compile.CompiledFunction.MaxSignatures + 1, compiled.TraceCount);
        compiled.Call(CompileAssert.Uniform(1, Kiln.Compile.CompiledFunction.MaxSignatures + 1));
        Assert.Equal(Kiln.Compile.CompiledFunction.MaxSignatures + 1, compiled.TraceCount);
        compiled.Call(CompileAssert.Uniform(1, 1)); // the least recently used, dropped
        Assert.Equal(Kiln.Compile.CompiledFunction.MaxSignatures + 2, compiled.TraceCount);
    }

    [Fact]
    public void A_result_that_does_not_depend_on_the_input_is_folded_and_copied_out_at_each_call()
    {
        using var compiled = Engine.Compile(x => Tensor.Ones([2]) * 3.0);
        var x = CompileAssert.Uniform(1, 4);
        compiled.Call(x);
        var first = compiled.Call(x);
        var second = compiled.Call(x);
        Assert.Equal([3f, 3f], second.ToArray<float>());
        Assert.False(first.SharesStorageWith(second));
        Assert.Equal(CompileAssert.Lines("graph function(%in0: [4] f32)", "  const %c0: [2] f32 = [3, 3]", "  return %c0"), compiled.GraphText);
    }

    [Fact]
    public void Calls_from_several_threads_run_one_at_a_time_and_each_gets_its_own_result()
    {
        Func<Tensor, Tensor> f = x => (x.Exp() * 2.0).Sum(1).Tanh();
        using var compiled = Engine.Compile(f);
        var inputs = Enumerable.Range(0, 4).Select(i => CompileAssert.Uniform(i, 3, 5)).ToArray();
        var expected = inputs.Select(f).ToArray();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int call = 0; call < 25; call++)
            {
                int i = (t + call) % inputs.Length;
                CompileAssert.SameBits(expected[i], compiled.Call(inputs[i]), $"thread {t}, call {call}");
            }
        });
        Assert.Equal(1, compiled.TraceCount);
    }
}
