using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>ModelCheckpoint driven hook by hook on a compiled model, as Fit would call it.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class ModelCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    private static (Sequential Model, Trainer Trainer) Compiled()
    {
        var model = new Sequential(new Linear(3, 4), new Relu(), new Linear(4, 2));
        var trainer = Trainer.Compile(model, new Adam(model.Parameters()), (p, t) => F.MseLoss(p, t), null);
        return (model, trainer);
    }

    private static ModelCheckpoint Attached(ModelCheckpoint checkpoint, Trainer trainer)
    {
        checkpoint.Trainer = trainer;
        checkpoint.OnTrainBegin(new Dictionary<string, double>());
        return checkpoint;
    }

    private static void Epoch(Callback callback, int epoch, params (string Name, double Value)[] logs)
    {
        callback.OnEpochBegin(epoch, new Dictionary<string, double>());
        callback.OnEpochEnd(epoch, logs.ToDictionary(l => l.Name, l => l.Value));
    }

    private string[] Files() => Directory.GetFiles(_dir, "*", SearchOption.AllDirectories)
        .Select(f => System.IO.Path.GetRelativePath(_dir, f)).Order().ToArray();

    [Fact]
    public void Every_epoch_is_saved_under_the_templated_name_in_a_directory_it_creates()
    {
        var (model, trainer) = Compiled();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("ckpt/epoch{epoch:02d}-{val_loss:.2f}.safetensors"), saveWeightsOnly: true), trainer);

        Epoch(checkpoint, 0, ("loss", 1.0), ("val_loss", 0.912));
        Epoch(checkpoint, 1, ("loss", 0.5), ("val_loss", 0.456));

        Assert.Equal(["ckpt/epoch01-0.91.safetensors", "ckpt/epoch02-0.46.safetensors"], Files());
        Assert.Equal(PathOf("ckpt/epoch02-0.46.safetensors"), checkpoint.LastSaved);
        var copy = new Sequential(new Linear(3, 4), new Relu(), new Linear(4, 2));
        copy.LoadWeights(checkpoint.LastSaved!);
        Assert.Equal(model.StateDict()["2.weight"].ToArray<float>(), copy.StateDict()["2.weight"].ToArray<float>());
    }

    [Fact]
    public void Save_best_only_in_min_mode_saves_only_improvements_of_the_loss()
    {
        var (_, trainer) = Compiled();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("e{epoch}.safetensors"), saveBestOnly: true, saveWeightsOnly: true), trainer);
        double[] losses = [0.5, 0.6, 0.4, 0.45, 0.4];

        for (int e = 0; e < losses.Length; e++) Epoch(checkpoint, e, ("val_loss", losses[e]));

        Assert.Equal(["e1.safetensors", "e3.safetensors"], Files());
        Assert.Equal(0.4, checkpoint.Best);
        Assert.False(checkpoint.HigherIsBetter);
    }

    [Fact]
    public void Save_best_only_maximizes_an_accuracy_in_auto_mode_and_obeys_an_explicit_mode()
    {
        var (_, trainer) = Compiled();
        var auto = Attached(new ModelCheckpoint(PathOf("auto-{epoch}.safetensors"), monitor: "val_accuracy", saveBestOnly: true, saveWeightsOnly: true), trainer);
        var min = Attached(new ModelCheckpoint(PathOf("min-{epoch}.safetensors"), monitor: "val_accuracy", mode: MonitorMode.Min, saveBestOnly: true, saveWeightsOnly: true), trainer);
        double[] accuracies = [0.7, 0.6, 0.8];

        for (int e = 0; e < accuracies.Length; e++)
        {
            Epoch(auto, e, ("val_accuracy", accuracies[e]));
            Epoch(min, e, ("val_accuracy", accuracies[e]));
        }

        Assert.True(auto.HigherIsBetter);
        Assert.Equal(["auto-1.safetensors", "auto-3.safetensors", "min-1.safetensors", "min-2.safetensors"], Files());
    }

    [Fact]
    public void Initial_value_threshold_must_be_beaten_first()
    {
        var (_, trainer) = Compiled();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("e{epoch}.safetensors"), saveBestOnly: true, saveWeightsOnly: true, initialValueThreshold: 0.3), trainer);
        Epoch(checkpoint, 0, ("val_loss", 0.4));
        Epoch(checkpoint, 1, ("val_loss", 0.2));
        Assert.Equal(["e2.safetensors"], Files());
    }

    [Fact]
    public void Epochs_without_the_monitored_value_are_skipped_with_save_best_only()
    {
        var (_, trainer) = Compiled();
        var warnings = new StringWriter();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("e{epoch}.safetensors"), saveBestOnly: true, saveWeightsOnly: true) { Warnings = warnings }, trainer);

        Epoch(checkpoint, 0, ("loss", 0.4));
        Epoch(checkpoint, 1, ("loss", 0.3));

        Assert.Empty(Files());
        Assert.Single(warnings.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"val_loss\"", warnings.ToString());
    }

    [Fact]
    public void Whole_model_checkpoints_load_with_their_optimizer()
    {
        var (model, trainer) = Compiled();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("model-{epoch}.kilnmodel")), trainer);

        Epoch(checkpoint, 4, ("loss", 0.1));

        var loaded = SavedModel.Load(PathOf("model-5.kilnmodel"), out var optimizer);
        Assert.Equal(model.ToString(), loaded.ToString());
        Assert.IsType<Adam>(optimizer);
    }

    [Fact]
    public void Save_freq_saves_every_few_batches_across_epochs()
    {
        var (_, trainer) = Compiled();
        var checkpoint = Attached(new ModelCheckpoint(PathOf("e{epoch}-b{batch}.safetensors"), saveWeightsOnly: true, saveFreq: 3), trainer);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            checkpoint.OnEpochBegin(epoch, new Dictionary<string, double>());
            for (int batch = 0; batch < 4; batch++) checkpoint.OnTrainBatchEnd(batch, new Dictionary<string, double> { ["loss"] = 1 });
            checkpoint.OnEpochEnd(epoch, new Dictionary<string, double> { ["loss"] = 1 });
        }
        // Batches 3 and 6 of the 8 seen: the third of epoch 1, and the second of epoch 2.
        Assert.Equal(["e1-b3.safetensors", "e2-b2.safetensors"], Files());
    }

    private sealed class Custom : Module
    {
        private readonly Linear _inner = new(2, 2);

        public override Tensor Forward(Tensor input) => _inner.Call(input);
    }

    [Fact]
    public void A_model_that_cannot_be_saved_whole_is_refused_when_training_begins()
    {
        var model = new Sequential(new Custom());
        var trainer = Trainer.Compile(model, new Sgd(model.Parameters(), lr: 0.1), (p, t) => F.MseLoss(p, t), null);
        var e = Assert.Throws<ArgumentException>(() => Attached(new ModelCheckpoint(PathOf("m.kilnmodel")), trainer));
        Assert.Contains("SaveWeights", e.Message);
        Attached(new ModelCheckpoint(PathOf("w.weights"), saveWeightsOnly: true), trainer);
    }

    [Fact]
    public void A_safetensors_path_saves_the_weights_even_of_a_model_that_cannot_be_saved_whole()
    {
        var model = new Sequential(new Custom());
        var trainer = Trainer.Compile(model, new Sgd(model.Parameters(), lr: 0.1), (p, t) => F.MseLoss(p, t), null);
        var checkpoint = Attached(new ModelCheckpoint(PathOf("best.safetensors")), trainer);

        Epoch(checkpoint, 0, ("val_loss", 0.5));

        Assert.True(checkpoint.SaveWeightsOnly);
        Assert.Equal(["best.safetensors"], Files());
        using var weights = Safetensors.Load(PathOf("best.safetensors"));
        Assert.Equal(["0.inner.weight", "0.inner.bias"], weights.Tensors.Keys);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelCheckpoint("m.safetensors", mode: (MonitorMode)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelCheckpoint("m.safetensors", saveFreq: 0));
        Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m-{epoch:q}.safetensors"));
    }
}
