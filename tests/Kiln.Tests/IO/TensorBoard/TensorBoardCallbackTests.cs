using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO.TensorBoard;

// Most tests drive the callback's hooks directly, in Fit's order, with a Trainer from the internal
// Trainer.Compile, so each value is known exactly; one runs it inside a real Fit.
[Collection(RandomStateCollection.Name)]
public sealed class TensorBoardCallbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-tensorboard-callback-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Kiln.IO.TensorBoard Attach(Kiln.IO.TensorBoard callback, out Module model, double lr = 0.125)
    {
        model = new Sequential(new Linear(2, 3), new Relu(), new Linear(3, 1));
        var trainer = Trainer.Compile(model, new Sgd(model.Parameters(), lr), (p, t) => F.MseLoss(p, t), null);
        callback.Trainer = trainer;
        return callback;
    }

    private static Dictionary<string, double> Logs(params (string Name, double Value)[] values) => values.ToDictionary(v => v.Name, v => v.Value);

    // One epoch as Fit runs it: batches (each with a forward through Module.Call), the validation pass, epoch end.
    private static void RunEpoch(Kiln.IO.TensorBoard tb, Module model, int epoch, int batches)
    {
        tb.OnEpochBegin(epoch, Logs());
        for (int b = 0; b < batches; b++)
        {
            tb.OnTrainBatchBegin(b, Logs());
            using (var x = Tensor.Zeros([4, 2])) model.Call(x);
            tb.OnTrainBatchEnd(b, Logs(("loss", 1.0 / (b + 1)), ("accuracy", 0.5)));
        }
        tb.OnTestBegin(Logs());
        tb.OnTestEnd(Logs(("loss", 0.75), ("accuracy", 0.25)));
        tb.OnEpochEnd(epoch, Logs(("loss", 0.5 + epoch), ("accuracy", 0.5), ("val_loss", 0.75 + epoch), ("val_accuracy", 0.25)));
    }

    private List<TbEvent> Events(string run) => TestEventReader.ReadFile(TestEventReader.SingleEventFile(Path.Combine(_dir, run)));

    private static List<(string Tag, long Step, float Value)> Scalars(IEnumerable<TbEvent> events)
        => events.Where(e => e.Summary is { } s && s[0].SimpleValue is not null).Select(e => (e.Summary![0].Tag, e.Step, e.Summary[0].SimpleValue!.Value)).ToList();

    [Fact]
    public void TensorBoard_writes_epoch_values_to_train_and_validation_runs_as_keras_does()
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir), out var model);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 2);
        RunEpoch(tb, model, 1, batches: 2);
        tb.OnTrainEnd(Logs());

        var train = Events("train");
        Assert.Equal("brain.Event:2", train[0].FileVersion);
        Assert.Equal(
        [
            ("epoch_loss", 0L, 0.5f), ("epoch_accuracy", 0L, 0.5f), ("epoch_learning_rate", 0L, 0.125f),
            ("epoch_loss", 1L, 1.5f), ("epoch_accuracy", 1L, 0.5f), ("epoch_learning_rate", 1L, 0.125f),
        ], Scalars(train));
        Assert.Equal(
        [
            ("evaluation_loss_vs_iterations", 2L, 0.75f), ("evaluation_accuracy_vs_iterations", 2L, 0.25f),
            ("epoch_loss", 0L, 0.75f), ("epoch_accuracy", 0L, 0.25f),
            ("evaluation_loss_vs_iterations", 4L, 0.75f), ("evaluation_accuracy_vs_iterations", 4L, 0.25f),
            ("epoch_loss", 1L, 1.75f), ("epoch_accuracy", 1L, 0.25f),
        ], Scalars(Events("validation")));
    }

    [Fact]
    public void TensorBoard_inside_Fit_logs_every_epoch_and_the_graph()
    {
        Engine.ManualSeed(3);
        var model = new Sequential(new Linear(2, 3), new Relu(), new Linear(3, 1));
        model.Compile(new Sgd(model.Parameters(), 0.05), Losses.MeanSquaredError);
        var x = Tensor.Randn([24, 2]);
        var y = x.Sum([1], keepDim: true);
        var history = model.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, validationSplit: 0.25,
            callbacks: [new Kiln.IO.TensorBoard(_dir)]);

        var train = Events("train");
        var losses = Scalars(train).Where(v => v.Tag == "epoch_loss").ToList();
        Assert.Equal([0L, 1L, 2L], losses.Select(v => v.Step));
        Assert.Equal(history["loss"].Select(v => (float)v), losses.Select(v => v.Value));
        var validation = Scalars(Events("validation")).Where(v => v.Tag == "epoch_loss").ToList();
        Assert.Equal(history["val_loss"].Select(v => (float)v), validation.Select(v => v.Value));
        var graph = Assert.Single(train, e => e.Graph is not null).Graph!;
        Assert.Equal(3, graph.Nodes.Count(n => n.Op is "Linear" or "ReLU"));
    }

    [Fact]
    public void TensorBoard_writes_the_graph_of_the_first_training_batch_once()
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir), out var model);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 3);
        tb.OnTrainEnd(Logs());

        var graphs = Events("train").Where(e => e.Graph is not null).ToList();
        var graph = Assert.Single(graphs).Graph!;
        Assert.Equal(["input", "model/0", "model/1", "model/2", "output"], graph.Nodes.Select(n => n.Name));
        Assert.Equal([4L, 2L], Assert.Single(graph.Nodes[0].Attrs["_output_shapes"].Shapes!));
    }

    [Fact]
    public void TensorBoard_writes_no_graph_when_asked_not_to_or_when_no_module_ran()
    {
        var off = Attach(new Kiln.IO.TensorBoard(Path.Combine(_dir, "off"), writeGraph: false), out var model);
        off.OnTrainBegin(Logs());
        RunEpoch(off, model, 0, batches: 1);
        off.OnTrainEnd(Logs());
        Assert.DoesNotContain(TestEventReader.ReadFile(TestEventReader.SingleEventFile(Path.Combine(_dir, "off", "train"))), e => e.Graph is not null);

        var idle = Attach(new Kiln.IO.TensorBoard(Path.Combine(_dir, "idle")), out _);
        idle.OnTrainBegin(Logs());
        idle.OnTrainBatchBegin(0, Logs());
        idle.OnTrainBatchEnd(0, Logs(("loss", 1)));
        idle.OnTrainEnd(Logs());
        Assert.DoesNotContain(TestEventReader.ReadFile(TestEventReader.SingleEventFile(Path.Combine(_dir, "idle", "train"))), e => e.Graph is not null);
    }

    [Theory]
    [InlineData("epoch", new long[0])]
    [InlineData("batch", new long[] { 1, 2, 3, 4 })]
    public void TensorBoard_writes_batch_values_as_update_freq_says(string updateFreq, long[] steps)
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir, writeGraph: false, updateFreq: updateFreq), out var model);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 2);
        RunEpoch(tb, model, 1, batches: 2);
        tb.OnTrainEnd(Logs());

        var batchLoss = Scalars(Events("train")).Where(s => s.Tag == "batch_loss").ToList();
        Assert.Equal(steps, batchLoss.Select(s => s.Step));
        if (steps.Length > 0) Assert.Equal([1f, 0.5f, 1f, 0.5f], batchLoss.Select(s => s.Value));
    }

    [Fact]
    public void TensorBoard_with_a_batch_count_writes_every_that_many_batches()
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir, writeGraph: false, updateFreq: 3), out var model);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 4);
        RunEpoch(tb, model, 1, batches: 4);
        tb.OnTrainEnd(Logs());

        var scalars = Scalars(Events("train"));
        Assert.Equal([3L, 6L], scalars.Where(s => s.Tag == "batch_loss").Select(s => s.Step));
        Assert.Equal([3L, 6L], scalars.Where(s => s.Tag == "batch_accuracy").Select(s => s.Step));
    }

    [Fact]
    public void TensorBoard_writes_parameter_histograms_every_histogram_freq_epochs()
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir, histogramFreq: 2, writeGraph: false), out var model);
        tb.OnTrainBegin(Logs());
        for (int epoch = 0; epoch < 3; epoch++) RunEpoch(tb, model, epoch, batches: 1);
        tb.OnTrainEnd(Logs());

        var histograms = Events("train").Where(e => e.Summary is { } s && s[0].Histogram is not null)
            .Select(e => (e.Summary![0].Tag, e.Step, e.Summary[0].Histogram!)).ToList();
        string[] names = ["0.weight", "0.bias", "2.weight", "2.bias"];
        Assert.Equal(names.Select(n => (n, 0L)).Concat(names.Select(n => (n, 2L))), histograms.Select(h => (h.Tag, h.Step)));
        var weight = model.NamedParameters().First().Parameter.ToArray<float>();
        var h0 = histograms[0].Item3;
        Assert.Equal(6.0, h0.Num);
        Assert.Equal(weight.Min(), h0.Min, 6);
        Assert.Equal(weight.Max(), h0.Max, 6);
        Assert.Equal(h0.Num, h0.Buckets.Sum());
    }

    [Fact]
    public void TensorBoard_starts_new_files_for_each_fit_and_skips_non_finite_parameters()
    {
        var tb = Attach(new Kiln.IO.TensorBoard(_dir, histogramFreq: 1, writeGraph: false), out var model);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 1);
        tb.OnTrainEnd(Logs());

        var bias = model.NamedParameters().First(p => p.Name == "2.bias").Parameter;
        using (Engine.NoGrad()) bias.FillInPlace(double.NaN);
        tb.OnTrainBegin(Logs());
        RunEpoch(tb, model, 0, batches: 1);
        tb.OnTrainEnd(Logs());

        var files = Directory.GetFiles(Path.Combine(_dir, "train")).OrderBy(f => f).ToList();
        Assert.Equal(2, files.Count);
        var second = files.Select(TestEventReader.ReadFile).Single(events => events.All(e => e.Summary is null || e.Summary[0].Tag != "2.bias"));
        Assert.Equal(3, second.Count(e => e.Summary is { } s && s[0].Histogram is not null));
    }

    [Fact]
    public void TensorBoard_refuses_bad_settings_and_hooks_outside_fit()
    {
        Assert.Throws<ArgumentException>(() => new Kiln.IO.TensorBoard(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Kiln.IO.TensorBoard(_dir, histogramFreq: -1));
        Assert.Throws<ArgumentException>(() => new Kiln.IO.TensorBoard(_dir, updateFreq: "sometimes"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Kiln.IO.TensorBoard(_dir, updateFreq: 0));
        var tb = Attach(new Kiln.IO.TensorBoard(_dir), out _);
        Assert.Throws<InvalidOperationException>(() => tb.OnEpochEnd(0, Logs(("loss", 1))));
        tb.OnTestEnd(Logs(("loss", 1)));
        Assert.False(Directory.Exists(Path.Combine(_dir, "validation")));
    }

    [Fact]
    public void UpdateFrequency_converts_from_keras_strings_and_batch_counts()
    {
        UpdateFrequency epoch = "epoch", batch = "Batch", every = 100;
        Assert.True(epoch.IsEpoch);
        Assert.Equal(UpdateFrequency.Epoch, default(UpdateFrequency));
        Assert.Equal((1, "batch"), (batch.Batches, batch.ToString()));
        Assert.Equal((100, "100"), (every.Batches, every.ToString()));
        Assert.Equal(UpdateFrequency.EveryBatches(100), every);
    }
}
