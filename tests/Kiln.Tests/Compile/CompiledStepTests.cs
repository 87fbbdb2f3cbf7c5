using Kiln.Compile;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Models;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>
/// Compiled training steps against the eager loop (ZeroGrad, Backward, Step) on twin models built from
/// the same seed: the same ops run the same kernels on the same values, so parameters, optimizer state
/// and BatchNorm's running statistics agree bit for bit.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class CompiledStepTests
{
    private static Sequential SmallMlp() => new(new Flatten(), new Linear(36, 24), new Relu(), new Linear(24, 16), new Tanh(), new Linear(16, 5));

    private static Sequential SmallCnn() => new(
        new Conv2d(1, 4, kernelSize: 3, padding: 1), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(4 * 3 * 3, 5));

    private static Sequential BatchNormCnn() => new(
        new Conv2d(1, 4, kernelSize: 3, padding: 1), new BatchNorm2d(4), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(4 * 3 * 3, 8), new BatchNorm1d(8), new Relu(), new Linear(8, 5));

    /// <summary>A batch of n one-channel 6×6 inputs and labels in [0, 5), both from <paramref name="seed"/>.</summary>
    internal static (Tensor X, Tensor Y) Batch(int seed, int n)
    {
        var x = CompileAssert.Uniform(seed, n, 1, 6, 6);
        var labels = new long[n];
        var rng = new Random(seed);
        for (int i = 0; i < n; i++) labels[i] = rng.Next(5);
        return (x, Tensor.From<long>(labels, n));
    }

    /// <summary>Twin models from one seed, so eager and compiled start from the same weights.</summary>
    private static (Module Eager, Module Compiled) Twins(Func<Module> make)
    {
        Engine.ManualSeed(21);
        var a = make();
        Engine.ManualSeed(21);
        var b = make();
        return (a, b);
    }

    private static double EagerStep(Module model, Optimizer optimizer, Tensor x, Tensor y)
    {
        using var scope = Engine.Scope();
        var loss = F.CrossEntropy(model.Call(x), y);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }

    private static void AssertSameState(Module expected, Module actual)
    {
        var e = expected.StateDict();
        var a = actual.StateDict();
        Assert.Equal(e.Keys.Order(), a.Keys.Order());
        foreach (var (name, tensor) in e) CompileAssert.SameBits(tensor, a[name], name);
    }

    private static void TrainBoth(Func<Module> make, Func<Module, Optimizer> optimizer, int steps, params int[] batchSizes)
    {
        var (eager, compiledModel) = Twins(make);
        eager.Train();
        compiledModel.Train();
        using var eagerOptimizer = optimizer(eager);
        using var compiledOptimizer = optimizer(compiledModel);
        using var step = Engine.CompileStep(compiledModel, Losses.CrossEntropy, compiledOptimizer);
        for (int i = 0; i < steps; i++)
        {
            var (x, y) = Batch(100 + i, batchSizes[i % batchSizes.Length]);
            double expected = EagerStep(eager, eagerOptimizer, x, y);
            using var loss = step.Step(x, y);
            Assert.Equal(expected, loss.Item());
        }
        AssertSameState(eager, compiledModel);
        Assert.Equal(batchSizes.Distinct().Count(), step.TraceCount);
    }

    [Fact]
    public void Compiled_adam_steps_on_an_mlp_match_eager_bit_for_bit()
        => TrainBoth(SmallMlp, m => new Adam(m.Parameters(), lr: 1e-2), steps: 6, 8);

    [Fact]
    public void Compiled_sgd_with_nesterov_momentum_and_weight_decay_matches_eager_bit_for_bit()
        => TrainBoth(SmallMlp, m => new Sgd(m.Parameters(), lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true), steps: 6, 8);

    [Fact]
    public void Compiled_adamw_steps_on_a_cnn_match_eager_bit_for_bit()
        => TrainBoth(SmallCnn, m => new AdamW(m.Parameters(), lr: 1e-2), steps: 5, 8);

    [Fact]
    public void Compiled_steps_update_batchnorm_running_statistics_as_eager_does()
        => TrainBoth(BatchNormCnn, m => new Sgd(m.Parameters(), lr: 0.05, momentum: 0.9), steps: 5, 8);

    [Fact]
    public void RmsProp_and_Adagrad_steps_compile_too()
    {
        TrainBoth(SmallMlp, m => new RmsProp(m.Parameters(), lr: 1e-2), steps: 3, 8);
        TrainBoth(SmallMlp, m => new Adagrad(m.Parameters(), lr: 1e-2), steps: 3, 8);
    }

    [Fact]
    public void A_smaller_last_batch_traces_once_more_and_then_replays()
    {
        Engine.ManualSeed(3);
        var model = SmallMlp();
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        using var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer);
        foreach (int n in new[] { 8, 8, 3, 8, 3, 8 })
        {
            var (x, y) = Batch(n, n);
            step.Step(x, y).Dispose();
        }
        Assert.Equal(2, step.TraceCount);
        Assert.Contains("MatMul", step.GraphText);
    }

    [Fact]
    public void A_learning_rate_changed_between_steps_takes_effect()
    {
        var (eager, compiledModel) = Twins(SmallMlp);
        using var eagerOptimizer = new Sgd(eager.Parameters(), lr: 0.1);
        using var compiledOptimizer = new Sgd(compiledModel.Parameters(), lr: 0.1);
        var eagerSchedule = new StepLR(eagerOptimizer, stepSize: 1, gamma: 0.5);
        var compiledSchedule = new StepLR(compiledOptimizer, stepSize: 1, gamma: 0.5);
        using var step = Engine.CompileStep(compiledModel, Losses.CrossEntropy, compiledOptimizer);
        for (int i = 0; i < 4; i++)
        {
            var (x, y) = Batch(7, 8);
            EagerStep(eager, eagerOptimizer, x, y);
            step.Step(x, y).Dispose();
            eagerSchedule.Step();
            compiledSchedule.Step();
        }
        Assert.Equal(0.1 / 16, compiledOptimizer.ParamGroups[0].Lr, 12);
        AssertSameState(eager, compiledModel);
    }

    [Fact]
    public void StepInto_writes_the_loss_into_the_given_tensor()
    {
        var (eager, compiledModel) = Twins(SmallMlp);
        using var eagerOptimizer = new Adam(eager.Parameters());
        using var compiledOptimizer = new Adam(compiledModel.Parameters());
        using var step = Engine.CompileStep(compiledModel, Losses.CrossEntropy, compiledOptimizer);
        using var loss = Tensor.Zeros([]);
        for (int i = 0; i < 3; i++)
        {
            var (x, y) = Batch(i, 8);
            double expected = EagerStep(eager, eagerOptimizer, x, y);
            step.StepInto(x, y, loss);
            Assert.Equal(expected, loss.Item());
        }
        using var wrong = Tensor.Zeros([2]);
        var (bx, by) = Batch(0, 8);
        Assert.Throws<ArgumentException>(() => step.StepInto(bx, by, wrong));
    }

    [Fact]
    public void Dropout_masks_are_drawn_afresh_at_each_step_from_the_same_stream_as_eager()
    {
        static Sequential WithDropout() => new(new Flatten(), new Linear(36, 16), new Relu(), new Dropout(0.3), new Linear(16, 5));
        var (eager, compiledModel) = Twins(WithDropout);
        using var eagerOptimizer = new Adam(eager.Parameters(), lr: 1e-2);
        using var compiledOptimizer = new Adam(compiledModel.Parameters(), lr: 1e-2);
        using var step = Engine.CompileStep(compiledModel, Losses.CrossEntropy, compiledOptimizer);
        var (x, y) = Batch(9, 8);
        Engine.ManualSeed(77);
        var losses = new double[4];
        for (int i = 0; i < losses.Length; i++) losses[i] = EagerStep(eager, eagerOptimizer, x, y);
        using var eagerNext = Tensor.Rand([4]);
        Engine.ManualSeed(77);
        for (int i = 0; i < losses.Length; i++)
        {
            using var loss = step.Step(x, y);
            Assert.Equal(losses[i], loss.Item());
        }
        using var compiledNext = Tensor.Rand([4]);
        CompileAssert.SameBits(eagerNext, compiledNext, "the stream after the steps");
        Assert.NotEqual(losses[1], losses[2]); // a new mask at each step
        AssertSameState(eager, compiledModel);
        Assert.Equal(1, step.TraceCount);
        Assert.Contains("RandomFill", step.GraphText);
    }

    [Fact]
    public void A_value_read_into_CSharp_is_refused_and_changes_nothing()
    {
        Engine.ManualSeed(5);
        var model = new Sequential(new Flatten(), new Linear(36, 8), new BatchNorm1d(8), new Relu(), new Linear(8, 5));
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        using var step = Engine.CompileStep(model, (p, t) => F.CrossEntropy(p, t) * (p.Sum().Item() > 0 ? 1.0 : 2.0), optimizer);
        var (x, y) = Batch(1, 8);
        var error = Assert.Throws<KilnException>(() => step.Step(x, y));
        Assert.Contains("reads a value", error.Message);
        foreach (var (name, tensor) in model.StateDict()) CompileAssert.SameBits(before[name], tensor, name);
    }

    [Fact]
    public void A_loss_that_is_not_one_value_is_refused()
    {
        Engine.ManualSeed(6);
        var model = SmallMlp();
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        using var step = Engine.CompileStep(model, (p, t) => p, optimizer);
        var (x, y) = Batch(1, 8);
        var error = Assert.Throws<KilnShapeException>(() => step.Step(x, y));
        Assert.Contains("one floating-point value", error.Message);
    }
    [Fact]
    public void A_model_of_two_inputs_and_two_outputs_steps_on_the_summed_loss_as_eager()
    {
        var (eager, compiledModel) = Twins(() => new TwoTowers());
        using var eagerOptimizer = new Sgd(eager.Parameters(), lr: 0.1, momentum: 0.5);
        using var compiledOptimizer = new Sgd(compiledModel.Parameters(), lr: 0.1, momentum: 0.5);
        using var step = Engine.CompileStep(compiledModel, Losses.MeanSquaredError, compiledOptimizer);
        Tensor[] x = [CompileAssert.Uniform(1, 6, 2), CompileAssert.Uniform(2, 6, 3)];
        Tensor[] y = [CompileAssert.Uniform(3, 6, 1), CompileAssert.Uniform(4, 6, 2)];
        for (int i = 0; i < 3; i++)
        {
            double expected;
            using (Engine.Scope())
            {
                var outputs = ((TwoTowers)eager).Forward(x);
                var loss = F.MseLoss(outputs[0], y[0]) + F.MseLoss(outputs[1], y[1]);
                eagerOptimizer.ZeroGrad();
                loss.Backward();
                eagerOptimizer.Step();
                expected = loss.Item();
            }
            using var compiledLoss = step.Step(x, y);
            Assert.Equal(expected, compiledLoss.Item());
        }
        AssertSameState(eager, compiledModel);
        Assert.Throws<ArgumentException>(() => step.Step(x[0], y[0]));
    }
}
