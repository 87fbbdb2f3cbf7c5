using Kiln.Models;
using Kiln.Optim;
using Kiln.Tests.Tensors;
using PlateauCallback = Kiln.Models.ReduceLROnPlateau;

namespace Kiln.Tests.Models;

/// <summary>ReduceLROnPlateau (Keras's) and LearningRateScheduler, driven hook by hook (the model's initializer draws from the global random stream).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class LearningRateCallbackTests
{
    /// <summary>Ends epochs with val_loss as each value; returns the "lr" each epoch logged.</summary>
    private static double[] LoggedRates(Callback callback, params double[] values)
    {
        var rates = new double[values.Length];
        for (int epoch = 0; epoch < values.Length; epoch++)
        {
            callback.OnEpochBegin(epoch, new Dictionary<string, double>());
            var logs = new Dictionary<string, double> { ["loss"] = values[epoch], ["val_loss"] = values[epoch] };
            callback.OnEpochEnd(epoch, logs);
            rates[epoch] = logs["lr"];
        }
        return rates;
    }

    private static void AssertRates(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 15);
    }

    [Fact]
    public void ReduceLROnPlateau_reduces_after_patience_flat_epochs_then_waits_out_the_cooldown()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 0.1);
        var plateau = CallbackHarness.Begin(new PlateauCallback(factor: 0.5, patience: 2, cooldown: 2, minLr: 0.02), trainer);
        // Reductions at the ends of epochs 2, 5 and 8 (the cooldown holds the wait at 0 for epochs 3 and 4, 6 and 7);
        // the last is clipped to minLr, and nothing goes below it.
        var rates = LoggedRates(plateau, Enumerable.Repeat(1.0, 12).ToArray());
        AssertRates([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02], rates);
        Assert.Equal(0.02, trainer.Optimizer.ParamGroups[0].Lr, 15);
    }

    [Fact]
    public void ReduceLROnPlateau_without_cooldown_reduces_every_patience_epochs()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 1);
        var plateau = CallbackHarness.Begin(new PlateauCallback(factor: 0.1, patience: 3), trainer);
        var rates = LoggedRates(plateau, 5, 5, 5, 5, 5, 5, 5);
        AssertRates([1, 1, 1, 1, 0.1, 0.1, 0.1], rates);
        Assert.Equal(0.01, trainer.Optimizer.ParamGroups[0].Lr, 15);
    }

    [Fact]
    public void ReduceLROnPlateau_counts_only_improvements_larger_than_min_delta()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 1);
        var plateau = CallbackHarness.Begin(new PlateauCallback(factor: 0.5, patience: 2, minDelta: 0.01), trainer);
        // Real improvements at epochs 1 and 2; epochs 3 and 4 improve by less than 0.01.
        var rates = LoggedRates(plateau, 1.0, 0.9, 0.8, 0.795, 0.791, 0.5, 0.5);
        AssertRates([1, 1, 1, 1, 1, 0.5, 0.5], rates);
        Assert.Equal(0.5, plateau.Best);
    }

    [Fact]
    public void ReduceLROnPlateau_reduces_every_parameter_group()
    {
        var trainer = CallbackHarness.MakeTrainer(optimizer: model =>
        {
            var ps = model.Parameters().ToArray();
            return new Sgd([new ParamGroup([ps[0]]), new ParamGroup([ps[1]]) { Lr = 0.4 }], lr: 0.2);
        });
        var plateau = CallbackHarness.Begin(new PlateauCallback(factor: 0.5, patience: 1), trainer);
        LoggedRates(plateau, 1, 1);
        Assert.Equal(0.1, trainer.Optimizer.ParamGroups[0].Lr, 15);
        Assert.Equal(0.2, trainer.Optimizer.ParamGroups[1].Lr, 15);
    }

    [Fact]
    public void ReduceLROnPlateau_watches_accuracies_upwards_and_warns_once_when_the_value_is_missing()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 1);
        var warnings = new StringWriter();
        var plateau = CallbackHarness.Begin(new PlateauCallback("val_accuracy", factor: 0.5, patience: 1) { Warnings = warnings }, trainer);
        var logs = new Dictionary<string, double>();
        for (int epoch = 0; epoch < 3; epoch++) plateau.OnEpochEnd(epoch, logs);
        Assert.Equal(1, logs["lr"]);
        Assert.Single(warnings.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ReduceLROnPlateau: conditioned on metric \"val_accuracy\"", warnings.ToString());
        for (int epoch = 0; epoch < 3; epoch++)
            plateau.OnEpochEnd(epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + epoch });
        Assert.Equal(1, trainer.Optimizer.ParamGroups[0].Lr);
        plateau.OnEpochEnd(3, new Dictionary<string, double> { ["val_accuracy"] = 0.1 });
        Assert.Equal(0.5, trainer.Optimizer.ParamGroups[0].Lr);
    }

    [Fact]
    public void ReduceLROnPlateau_refuses_a_factor_that_does_not_reduce()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlateauCallback(factor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlateauCallback(minLr: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlateauCallback(cooldown: -1));
    }

    [Fact]
    public void LearningRateScheduler_sets_the_rate_from_the_function_at_each_epoch_begin()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 0.1);
        var seen = new List<(int, double)>();
        var scheduler = CallbackHarness.Begin(new LearningRateScheduler((epoch, lr) =>
        {
            seen.Add((epoch, lr));
            return epoch < 2 ? lr : lr * 0.5;
        }), trainer);
        var rates = LoggedRates(scheduler, 1, 1, 1, 1);
        AssertRates([0.1, 0.1, 0.05, 0.025], rates);
        Assert.Equal([0, 1, 2, 3], seen.Select(s => s.Item1));
        AssertRates([0.1, 0.1, 0.1, 0.05], seen.Select(s => s.Item2).ToArray());
    }

    [Fact]
    public void LearningRateScheduler_steps_an_lr_scheduler_once_per_epoch()
    {
        var trainer = CallbackHarness.MakeTrainer(lr: 0.1);
        var scheduler = CallbackHarness.Begin(new LearningRateScheduler(new StepLR(trainer.Optimizer, stepSize: 2, gamma: 0.1)), trainer);
        var rates = LoggedRates(scheduler, 1, 1, 1, 1, 1);
        AssertRates([0.1, 0.1, 0.01, 0.01, 0.001], rates);
    }

    [Fact]
    public void LearningRateScheduler_refuses_a_bad_rate_and_another_optimizers_scheduler()
    {
        var trainer = CallbackHarness.MakeTrainer();
        var scheduler = CallbackHarness.Begin(new LearningRateScheduler((_, _) => double.NaN), trainer);
        var e = Assert.Throws<InvalidOperationException>(() => scheduler.OnEpochBegin(4, new Dictionary<string, double>()));
        Assert.Contains("lr = NaN for epoch 4", e.Message);

        var other = CallbackHarness.MakeTrainer();
        var foreign = new LearningRateScheduler(new StepLR(other.Optimizer, stepSize: 1));
        Assert.Throws<InvalidOperationException>(() => CallbackHarness.Begin(foreign, trainer));
    }
}
