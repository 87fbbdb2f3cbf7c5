using Kiln.Compile;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>Batch-norm folding under frozen parameters: one Conv2d or Linear where there were two layers, eager results within 1e-5.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class BatchNormFoldingTests
{
    private static Sequential BatchNormCnn() => new(
        new Conv2d(1, 6, kernelSize: 3, padding: 1), new BatchNorm2d(6), new Relu(), new MaxPool2d(2),
        new Conv2d(6, 8, kernelSize: 3, padding: 1, bias: false), new BatchNorm2d(8), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(8 * 4 * 4, 20), new BatchNorm1d(20), new Relu(), new Linear(20, 10));

    /// <summary>Moves the running statistics and every parameter away from their initial values, then switches to Eval.</summary>
    private static void Settle(Module model, int seed, params int[] inputShape)
    {
        using (Engine.NoGrad())
        {
            for (int i = 0; i < 3; i++) model.Call(CompileAssert.Uniform(seed + i, inputShape));
            int k = 0;
            foreach (var p in model.Parameters()) p.AddInPlace(CompileAssert.Uniform(seed + 100 + k++, p.ShapeArray) * 0.5);
        }
        model.Eval();
    }

    private static Tensor Eager(Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    private static void Close(Tensor expected, Tensor actual, double relative)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        double scale = e.Max(Math.Abs), worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]));
        Assert.True(worst <= relative * scale, $"largest difference {worst} exceeds {relative} of the largest value {scale}");
    }

    [Fact]
    public void A_frozen_cnn_folds_every_batch_norm_into_the_layer_before_it_and_matches_eager_eval()
    {
        Engine.ManualSeed(21);
        var model = BatchNormCnn();
        Settle(model, 300, 8, 1, 16, 16);
        using var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true });
        var x = CompileAssert.Uniform(5, 8, 1, 16, 16);
        for (int call = 0; call < 2; call++) Close(Eager(model, x), compiled.Call(x), 1e-5);
        var text = compiled.GraphText;
        Assert.DoesNotContain("param @", text); // frozen: constants only
        foreach (var op in new[] { "Sub(", "Rsqrt(", "Mul(", "BatchNorm" }) Assert.DoesNotContain(op, text);
        Assert.Equal(2, CountOf(text, "= FusedConv2d(")); // each with its ReLU folded in
        Assert.Equal(2, CountOf(text, "= PrepackedLinear(")); // frozen weights are packed once
        Assert.Contains("= FusedConv2d(%in0, %c", text);
    }

    [Fact]
    public void Without_freezing_nothing_is_folded_because_the_weights_may_change()
    {
        Engine.ManualSeed(22);
        var model = new Sequential(new Conv2d(2, 3, kernelSize: 3, padding: 1), new BatchNorm2d(3), new Relu());
        Settle(model, 400, 4, 2, 6, 6);
        using var compiled = Engine.Compile(model);
        var x = CompileAssert.Uniform(6, 4, 2, 6, 6);
        compiled.Call(x);
        CompileAssert.SameBits(Eager(model, x), compiled.Call(x));
        Assert.Contains("param @1.running_var", compiled.GraphText);
        Assert.Contains("Sub(", compiled.GraphText);
    }

    [Fact]
    public void Frozen_parameters_are_read_once_so_later_changes_are_not_seen()
    {
        Engine.ManualSeed(23);
        var model = new Sequential(new Linear(6, 4), new BatchNorm1d(4), new Tanh());
        Settle(model, 500, 5, 6);
        using var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true });
        var x = CompileAssert.Uniform(7, 5, 6);
        var before = Eager(model, x);
        Close(before, compiled.Call(x), 1e-5);
        using (Engine.NoGrad())
            foreach (var p in model.Parameters()) p.MulInPlace(Tensor.Scalar(2.0));
        Close(before, compiled.Call(x), 1e-5);
        Assert.Equal(1, compiled.TraceCount);
        Assert.DoesNotContain("Sub(", compiled.GraphText);
    }

    [Fact]
    public void A_scale_read_elsewhere_is_not_folded()
    {
        var w = CompileAssert.Uniform(8, 3, 2, 3, 3);
        var shift = CompileAssert.Uniform(9, 3, 1, 1);
        Func<Tensor, Tensor> f = x =>
        {
            var y = F.Conv2d(x, w, padding: 1);
            var shifted = y + shift;
            return shifted * 2.0 + y.Sum();
        };
        using var compiled = Engine.Compile(f, new CompileOptions { FreezeParameters = true });
        var x = CompileAssert.Uniform(10, 2, 2, 5, 5);
        compiled.Call(x);
        Close(f(x), compiled.Call(x), 1e-6);
        Assert.Contains("Add(", compiled.GraphText); // y is also summed: the shift stays a separate op
    }

    private static int CountOf(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
