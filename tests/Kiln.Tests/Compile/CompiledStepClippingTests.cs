using Kiln.Compile;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>
/// Gradient clipping inside compiled steps against the eager loop that clips between Backward and Step
/// (PyTorch's clip_grad_norm_ / clip_grad_value_ placement), on twin models from one seed: the same
/// arithmetic on the same gradients, so parameters agree bit for bit. And the gradients a compiled step
/// exposes through GradientOf.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class CompiledStepClippingTests
{
    private static Sequential Mlp() => new(new Flatten(), new Linear(36, 24), new Relu(), new Linear(24, 16), new Tanh(), new Linear(16, 5));

    private static (Tensor X, Tensor Y) Batch(int seed, int n) => CompiledStepTests.Batch(seed, n);

    private static (Module Eager, Module Compiled) Twins()
    {
        Engine.ManualSeed(41);
        var a = Mlp();
        Engine.ManualSeed(41);
        var b = Mlp();
        return (a, b);
    }

    /// <summary>Trains both ways for a few steps (the second batch size retraces) and returns the eager model's last gradients.</summary>
    private static void TrainBoth(CompileStepOptions options, Action<IEnumerable<Tensor>> clip)
    {
        var (eager, compiled) = Twins();
        using var eagerOptimizer = new Adam(eager.Parameters(), lr: 1e-2);
        using var compiledOptimizer = new Adam(compiled.Parameters(), lr: 1e-2);
        using var step = Engine.CompileStep(compiled, Losses.CrossEntropy, compiledOptimizer, options);
        int[] sizes = [8, 8, 8, 5, 8];
        for (int i = 0; i < sizes.Length; i++)
        {
            var (x, y) = Batch(200 + i, sizes[i]);
            using (Engine.Scope())
            {
                var loss = F.CrossEntropy(eager.Call(x), y);
                eagerOptimizer.ZeroGrad();
                loss.Backward();
                clip(eager.Parameters());
                eagerOptimizer.Step();
            }
            using var compiledLoss = step.Step(x, y);
            var eagerParameters = eager.Parameters().ToArray();
            var compiledParameters = compiled.Parameters().ToArray();
            for (int k = 0; k < eagerParameters.Length; k++)
            {
                CompileAssert.SameBits(eagerParameters[k].Grad!, step.GradientOf(compiledParameters[k])!, $"gradient {k} at step {i}");
                CompileAssert.SameBits(eagerParameters[k], compiledParameters[k], $"parameter {k} at step {i}");
            }
        }
        Assert.Equal(2, step.TraceCount);
    }

    [Fact]
    public void Compiled_step_clipping_the_gradient_norm_matches_the_eager_loop_bit_for_bit()
        => TrainBoth(new CompileStepOptions { ClipGradNorm = 0.05 }, ps => Assert.True(GradClip.ClipGradNorm(ps, 0.05) > 0.05));

    [Fact]
    public void Compiled_step_clipping_the_infinity_norm_matches_the_eager_loop_bit_for_bit()
        => TrainBoth(new CompileStepOptions { ClipGradNorm = 0.01, NormType = double.PositiveInfinity },
            ps => GradClip.ClipGradNorm(ps, 0.01, double.PositiveInfinity));

    [Fact]
    public void Compiled_step_clipping_gradient_values_then_norm_matches_the_eager_loop_bit_for_bit()
        => TrainBoth(new CompileStepOptions { ClipGradValue = 0.002, ClipGradNorm = 0.01 }, ps =>
        {
            var list = ps.ToList();
            GradClip.ClipGradValue(list, 0.002);
            GradClip.ClipGradNorm(list, 0.01);
        });

    [Fact]
    public void Gradient_clipping_actually_changes_the_update()
    {
        Engine.ManualSeed(41);
        var a = Mlp();
        Engine.ManualSeed(41);
        var b = Mlp();
        using var plain = new Sgd(a.Parameters(), lr: 0.1);
        using var clipped = new Sgd(b.Parameters(), lr: 0.1);
        using var plainStep = Engine.CompileStep(a, Losses.CrossEntropy, plain);
        using var clippedStep = Engine.CompileStep(b, Losses.CrossEntropy, clipped, new CompileStepOptions { ClipGradValue = 1e-4 });
        var (x, y) = Batch(7, 8);
        plainStep.Step(x, y).Dispose();
        clippedStep.Step(x, y).Dispose();
        var g = clippedStep.GradientOf(b.Parameters().First())!.ToArray<float>();
        Assert.All(g, v => Assert.InRange(v, -1e-4f, 1e-4f));
        Assert.Contains(plainStep.GradientOf(a.Parameters().First())!.ToArray<float>(), v => Math.Abs(v) > 1e-4f);
        Assert.NotEqual(a.Parameters().First().ToArray<float>(), b.Parameters().First().ToArray<float>());
    }

    [Fact]
    public void GradientOf_is_null_before_the_first_step_and_refuses_a_tensor_the_optimizer_does_not_hold()
    {
        Engine.ManualSeed(42);
        var model = Mlp();
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        using var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer);
        var first = model.Parameters().First();
        Assert.Null(step.GradientOf(first));
        var e = Assert.Throws<ArgumentException>(() => step.GradientOf(Tensor.Zeros([3])));
        Assert.Contains("not one of the optimizer's parameters", e.Message);
        var (x, y) = Batch(3, 8);
        step.Step(x, y).Dispose();
        Assert.Equal(first.ShapeArray, step.GradientOf(first)!.ShapeArray);
    }

    [Theory]
    [InlineData(double.NaN, 2.0, null)]
    [InlineData(1.0, double.NaN, null)]
    [InlineData(null, 2.0, -1.0)]
    [InlineData(null, 2.0, double.NaN)]
    public void Unusable_clipping_options_are_refused_naming_the_option(double? norm, double normType, double? value)
    {
        var model = Mlp();
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Engine.CompileStep(model, Losses.CrossEntropy, optimizer, new CompileStepOptions { ClipGradNorm = norm, NormType = normType, ClipGradValue = value }));
        Assert.Contains("CompileStepOptions.", e.Message);
    }
}
