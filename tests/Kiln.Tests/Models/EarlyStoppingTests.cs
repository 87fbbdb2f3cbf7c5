using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>EarlyStopping's Keras semantics, driven hook by hook (the model's initializer draws from the global random stream).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class EarlyStoppingTests
{
    [Fact]
    public void EarlyStopping_stops_after_patience_epochs_without_improvement()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 2), CallbackHarness.MakeTrainer());
        // Best at epoch 1; epochs 2 and 3 do not improve on it.
        Assert.Equal(3, CallbackHarness.EndEpochs(stopping, "val_loss", 1.0, 0.9, 0.95, 0.92, 0.5));
        Assert.Equal(3, stopping.StoppedEpoch);
        Assert.Equal(0.9, stopping.BestValue);
        Assert.Equal(1, stopping.BestEpoch);
        Assert.True(stopping.Trainer.StopTraining);
    }

    [Fact]
    public void EarlyStopping_keeps_going_while_the_value_improves()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 1), CallbackHarness.MakeTrainer());
        Assert.Equal(-1, CallbackHarness.EndEpochs(stopping, "val_loss", 5, 4, 3, 2, 1));
        Assert.Equal(0, stopping.StoppedEpoch);
        Assert.Equal(1.0, stopping.BestValue);
    }

    [Fact]
    public void EarlyStopping_with_patience_0_stops_at_the_first_epoch_without_improvement()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(), CallbackHarness.MakeTrainer());
        Assert.Equal(2, CallbackHarness.EndEpochs(stopping, "val_loss", 3, 2, 2, 1));
    }

    [Fact]
    public void EarlyStopping_counts_only_improvements_larger_than_min_delta()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(minDelta: 0.1, patience: 2), CallbackHarness.MakeTrainer());
        // 0.95 and 0.92 are better than 1.0, but by less than 0.1.
        Assert.Equal(2, CallbackHarness.EndEpochs(stopping, "val_loss", 1.0, 0.95, 0.92, 0.5));
        Assert.Equal(1.0, stopping.BestValue);
    }

    [Fact]
    public void EarlyStopping_maximizes_accuracies_in_auto_mode()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping("val_accuracy", patience: 1), CallbackHarness.MakeTrainer());
        Assert.Equal(3, CallbackHarness.EndEpochs(stopping, "val_accuracy", 0.5, 0.6, 0.7, 0.65));
        Assert.Equal(0.7, stopping.BestValue);
        var minimizing = CallbackHarness.Begin(new EarlyStopping("val_accuracy", patience: 1, mode: MonitorMode.Min), CallbackHarness.MakeTrainer());
        Assert.Equal(1, CallbackHarness.EndEpochs(minimizing, "val_accuracy", 0.5, 0.6, 0.7, 0.65));
    }

    [Theory]
    [InlineData("val_loss", false)]
    [InlineData("loss", false)]
    [InlineData("val_mean_squared_error", false)]
    [InlineData("mae", false)]
    [InlineData("accuracy", true)]
    [InlineData("val_acc", true)]
    [InlineData("val_sparse_categorical_accuracy", true)]
    [InlineData("top_k_accuracy", true)]
    [InlineData("val_auc", true)]
    [InlineData("precision", true)]
    [InlineData("val_recall", true)]
    [InlineData("f1_score", true)]
    [InlineData("val_mean_iou", true)]
    [InlineData("accuracy_loss", false)]
    public void Auto_mode_maximizes_accuracy_like_names_and_minimizes_the_rest(string monitor, bool upwards)
        => Assert.Equal(upwards, MonitoredValue.ImprovesUpwards(monitor));

    [Fact]
    public void EarlyStopping_with_a_baseline_restarts_patience_only_for_values_beating_it()
    {
        // Improving but short of the baseline 0.9: the wait is not reset, so the first flat epoch stops.
        var withBaseline = CallbackHarness.Begin(new EarlyStopping("val_accuracy", patience: 2, baseline: 0.9), CallbackHarness.MakeTrainer());
        Assert.Equal(2, CallbackHarness.EndEpochs(withBaseline, "val_accuracy", 0.5, 0.6, 0.55, 0.5));
        Assert.Equal(0.6, withBaseline.BestValue);
        var without = CallbackHarness.Begin(new EarlyStopping("val_accuracy", patience: 2), CallbackHarness.MakeTrainer());
        Assert.Equal(3, CallbackHarness.EndEpochs(without, "val_accuracy", 0.5, 0.6, 0.55, 0.5));
        // Beating the baseline at epoch 1 resets the wait as usual.
        var beaten = CallbackHarness.Begin(new EarlyStopping("val_accuracy", patience: 2, baseline: 0.9), CallbackHarness.MakeTrainer());
        Assert.Equal(3, CallbackHarness.EndEpochs(beaten, "val_accuracy", 0.5, 0.95, 0.9, 0.9, 0.9));
    }

    [Fact]
    public void EarlyStopping_ignores_epochs_before_start_from_epoch()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 1, startFromEpoch: 3), CallbackHarness.MakeTrainer());
        Assert.Equal(4, CallbackHarness.EndEpochs(stopping, "val_loss", 0.1, 0.2, 0.3, 1.0, 1.5));
        Assert.Equal(1.0, stopping.BestValue);
        Assert.Equal(3, stopping.BestEpoch);
    }

    private static void FillWeights(Module model, float value)
    {
        using (Engine.NoGrad())
            foreach (var p in model.Parameters()) p.Span<float>().Fill(value);
    }

    [Fact]
    public void EarlyStopping_restores_the_exact_weights_of_the_best_epoch()
    {
        var trainer = CallbackHarness.MakeTrainer();
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 2, restoreBestWeights: true), trainer);
        double[] losses = [1.0, 0.4, 0.7, 0.8, 0.9];
        int stopped = -1;
        for (int epoch = 0; epoch < losses.Length && stopped < 0; epoch++)
        {
            // Each epoch leaves the weights at a value of its own: 10, 11, 12, ...
            FillWeights(trainer.Model, 10 + epoch + 0.125f);
            stopping.OnEpochEnd(epoch, new Dictionary<string, double> { ["val_loss"] = losses[epoch] });
            if (trainer.StopTraining) stopped = epoch;
        }
        Assert.Equal(3, stopped);
        Assert.All(trainer.Model.Parameters(), p => Assert.All(p.ToArray<float>(), v => Assert.Equal(13.125f, v)));
        stopping.OnTrainEnd(new Dictionary<string, double>());
        Assert.All(trainer.Model.Parameters(), p => Assert.All(p.ToArray<float>(), v => Assert.Equal(11.125f, v)));
    }

    [Fact]
    public void EarlyStopping_without_restore_leaves_the_last_weights()
    {
        var trainer = CallbackHarness.MakeTrainer();
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 1), trainer);
        FillWeights(trainer.Model, 1);
        stopping.OnEpochEnd(0, new Dictionary<string, double> { ["val_loss"] = 1 });
        FillWeights(trainer.Model, 2);
        stopping.OnEpochEnd(1, new Dictionary<string, double> { ["val_loss"] = 2 });
        stopping.OnTrainEnd(new Dictionary<string, double>());
        Assert.All(trainer.Model.Parameters(), p => Assert.All(p.ToArray<float>(), v => Assert.Equal(2f, v)));
    }

    [Fact]
    public void EarlyStopping_warns_once_about_a_missing_monitor_and_carries_on()
    {
        var warnings = new StringWriter();
        var stopping = new EarlyStopping(patience: 0) { Warnings = warnings };
        CallbackHarness.Begin(stopping, CallbackHarness.MakeTrainer());
        for (int epoch = 0; epoch < 4; epoch++)
            stopping.OnEpochEnd(epoch, new Dictionary<string, double> { ["loss"] = 4 - epoch, ["accuracy"] = 0.5 });
        Assert.False(stopping.Trainer.StopTraining);
        Assert.Null(stopping.BestValue);
        Assert.Equal("EarlyStopping: conditioned on metric \"val_loss\", which is not available. Available metrics are: loss, accuracy" + Environment.NewLine,
            warnings.ToString());
    }

    [Fact]
    public void EarlyStopping_starts_afresh_at_each_fit()
    {
        var stopping = CallbackHarness.Begin(new EarlyStopping(patience: 1), CallbackHarness.MakeTrainer());
        Assert.Equal(1, CallbackHarness.EndEpochs(stopping, "val_loss", 1, 2));
        CallbackHarness.Begin(stopping, stopping.Trainer);
        Assert.Equal(0, stopping.StoppedEpoch);
        Assert.Null(stopping.BestValue);
        Assert.Equal(2, CallbackHarness.EndEpochs(stopping, "val_loss", 5, 4, 4));
    }

    [Fact]
    public void EarlyStopping_refuses_bad_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(patience: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(minDelta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(mode: (MonitorMode)7));
        Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: " "));
        Assert.Equal(0.5, new EarlyStopping(minDelta: -0.5).MinDelta);
    }
}
