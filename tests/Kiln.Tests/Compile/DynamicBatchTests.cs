using Kiln.Compile;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>A dynamic batch dimension: new batch sizes re-specialize the traced graph instead of tracing again.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class DynamicBatchTests
{
    private static readonly CompileOptions Dynamic = new() { DynamicBatch = true };

    private static Tensor Eager(Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    [Fact]
    public void An_mlp_traced_once_runs_every_batch_size_with_the_eager_bits()
    {
        Engine.ManualSeed(31);
        var model = CompiledModuleTests.Mlp();
        model.Eval();
        using var compiled = Engine.Compile(model, Dynamic);
        foreach (var batch in new[] { 64, 1, 7, 64, 7, 1 })
        {
            var x = CompileAssert.Uniform(batch, batch, 1, 28, 28);
            CompileAssert.SameBits(Eager(model, x), compiled.Call(x), $"batch {batch}");
        }
        Assert.Equal(1, compiled.TraceCount);
        Assert.StartsWith("graph Sequential(%in0: [7,1,28,28] f32)", compiled.GraphText); // the latest graph made: batch 7, re-specialized
    }

    [Fact]
    public void A_cnn_traced_once_runs_every_batch_size_with_the_eager_bits()
    {
        Engine.ManualSeed(32);
        var model = CompiledModuleTests.FashionCnn();
        model.Eval();
        using var compiled = Engine.Compile(model, Dynamic);
        foreach (var batch in new[] { 7, 64, 1, 7 })
        {
            var x = CompileAssert.Uniform(batch, 0.0, 1.0, batch, 1, 28, 28);
            for (int call = 0; call < 2; call++)
                CompileAssert.SameBits(Eager(model, x), compiled.Call(x), $"batch {batch}, call {call}");
        }
        Assert.Equal(1, compiled.TraceCount);
        Assert.Contains("Reshape(", compiled.GraphText);
    }

    [Fact]
    public void Frozen_and_dynamic_together_fold_once_and_follow_the_batch()
    {
        Engine.ManualSeed(33);
        var model = new Sequential(new Conv2d(1, 4, kernelSize: 3, padding: 1), new BatchNorm2d(4), new Relu(), new Flatten(), new Linear(4 * 6 * 6, 5));
        using (Engine.NoGrad()) model.Call(CompileAssert.Uniform(1, 0.0, 1.0, 8, 1, 6, 6));
        model.Eval();
        using var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true, DynamicBatch = true });
        foreach (var batch in new[] { 64, 1, 7 })
        {
            var x = CompileAssert.Uniform(batch, 0.0, 1.0, batch, 1, 6, 6);
            var expected = Eager(model, x).ToArray<float>();
            var actual = compiled.Call(x).ToArray<float>();
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"batch {batch}, element {i}");
        }
        Assert.Equal(1, compiled.TraceCount);
        Assert.DoesNotContain("Sub(", compiled.GraphText);
    }

    [Fact]
    public void A_trace_at_batch_size_one_is_not_reused_since_its_ones_are_ambiguous()
    {
        Engine.ManualSeed(34);
        var model = new Sequential(new Flatten(), new Linear(12, 3));
        model.Eval();
        using var compiled = Engine.Compile(model, Dynamic);
        foreach (var batch in new[] { 1, 5, 9, 1 })
        {
            var x = CompileAssert.Uniform(batch, batch, 3, 4);
            CompileAssert.SameBits(Eager(model, x), compiled.Call(x), $"batch {batch}");
        }
        Assert.Equal(2, compiled.TraceCount); // 1 traces, 5 traces (and serves 9), 1 is still cached
    }

    [Fact]
    public void A_reshape_that_folds_the_batch_into_another_dimension_is_refused_naming_the_node()
    {
        using var compiled = Engine.Compile(x => x.Reshape(x.ShapeArray[0] * 2, -1).Relu(), Dynamic);
        compiled.Call(CompileAssert.Uniform(1, 4, 6));
        var e = Assert.Throws<KilnException>(() => compiled.Call(CompileAssert.Uniform(2, 3, 6)));
        Assert.Contains("compiled with a dynamic batch dimension (traced at batch size 4), but at batch size 3 its Reshape node (traced [8,3] f32 { Shape = [8, -1] }) cannot follow the batch", e.Message);
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void Inputs_whose_first_dimensions_differ_are_refused()
    {
        using var dynamic = new CompiledFunction("function", xs => [xs[0] + xs[1].Sum()], inputCount: 2, module: null, Dynamic);
        var e = Assert.Throws<KilnShapeException>(() => dynamic.Call(CompileAssert.Uniform(1, 4, 2), CompileAssert.Uniform(2, 3, 2)));
        Assert.Contains("the inputs' dimension 0 differ (4 and 3 for input 1)", e.Message);
    }

    [Fact]
    public void Other_dimensions_and_dtypes_still_trace_again()
    {
        using var compiled = Engine.Compile(x => (x * 2.0).Sum(1), Dynamic);
        compiled.Call(CompileAssert.Uniform(1, 4, 6));
        compiled.Call(CompileAssert.Uniform(2, 5, 6));
        compiled.Call(CompileAssert.Uniform(3, 5, 7));
        compiled.Call(CompileAssert.Uniform(4, 5, 7).To(DType.Float64));
        Assert.Equal(3, compiled.TraceCount);
    }
}
