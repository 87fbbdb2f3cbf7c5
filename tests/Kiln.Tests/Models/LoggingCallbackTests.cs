using Kiln.Models;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>CsvLogger, TerminateOnNaN and LambdaCallback, driven hook by hook (the model's initializer draws from the global random stream).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class LoggingCallbackTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "kiln-csv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static Dictionary<string, double> Logs(params (string Key, double Value)[] entries) => entries.ToDictionary(e => e.Key, e => e.Value);

    private static void Fit(CsvLogger logger, params Dictionary<string, double>[] epochs)
    {
        CallbackHarness.Begin(logger, CallbackHarness.MakeTrainer());
        for (int epoch = 0; epoch < epochs.Length; epoch++) logger.OnEpochEnd(epoch, epochs[epoch]);
        logger.OnTrainEnd(new Dictionary<string, double>());
    }

    [Fact]
    public void CsvLogger_writes_a_sorted_header_and_one_round_trippable_row_per_epoch()
    {
        var path = Path.Combine(_folder, "logs", "training.csv");
        var logger = new CsvLogger(path);
        CallbackHarness.Begin(logger, CallbackHarness.MakeTrainer());
        logger.OnEpochEnd(0, Logs(("loss", 0.5), ("val_loss", 0.75), ("accuracy", 0.25)));
        // Each row is on disk as soon as its epoch ends.
        Assert.Equal("epoch,accuracy,loss,val_loss\n0,0.25,0.5,0.75\n", File.ReadAllText(path));
        logger.OnEpochEnd(1, Logs(("loss", 0.1 + 0.2), ("accuracy", 1e-20), ("lr", 3)));
        logger.OnEpochEnd(2, Logs(("loss", double.NaN), ("accuracy", double.PositiveInfinity), ("val_loss", -1.0 / 3)));
        logger.OnTrainEnd(new Dictionary<string, double>());
        Assert.Equal(
            "epoch,accuracy,loss,val_loss\n0,0.25,0.5,0.75\n1,1E-20,0.30000000000000004,NA\n2,Infinity,NaN,-0.3333333333333333\n",
            File.ReadAllText(path));
        Assert.Equal(0.1 + 0.2, double.Parse("0.30000000000000004", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(-1.0 / 3, double.Parse("-0.3333333333333333", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void CsvLogger_starts_the_file_anew_unless_appending()
    {
        var path = Path.Combine(_folder, "log.csv");
        Fit(new CsvLogger(path, separator: ';'), Logs(("loss", 2)), Logs(("loss", 1)));
        Assert.Equal("epoch;loss\n0;2\n1;1\n", File.ReadAllText(path));
        Fit(new CsvLogger(path, separator: ';', append: true), Logs(("loss", 0.5)));
        Assert.Equal("epoch;loss\n0;2\n1;1\n0;0.5\n", File.ReadAllText(path));
        Fit(new CsvLogger(path, separator: ';'), Logs(("loss", 7)));
        Assert.Equal("epoch;loss\n0;7\n", File.ReadAllText(path));
    }

    [Fact]
    public void CsvLogger_appending_to_a_new_or_empty_file_writes_the_header()
    {
        var path = Path.Combine(_folder, "new.csv");
        Fit(new CsvLogger(path, append: true), Logs(("loss", 1)));
        Assert.Equal("epoch,loss\n0,1\n", File.ReadAllText(path));
        File.WriteAllText(path, "");
        Fit(new CsvLogger(path, separator: '\t', append: true), Logs(("loss", 1)));
        Assert.Equal("epoch\tloss\n0\t1\n", File.ReadAllText(path));
    }

    [Fact]
    public void CsvLogger_quotes_keys_holding_the_separator_and_refuses_separators_inside_numbers()
    {
        var path = Path.Combine(_folder, "quoted.csv");
        Fit(new CsvLogger(path), Logs(("a,b", 1), ("say \"hi\"", 2)));
        Assert.Equal("epoch,\"a,b\",\"say \"\"hi\"\"\"\n0,1,2\n", File.ReadAllText(path));
        Assert.Throws<ArgumentException>(() => new CsvLogger(path, separator: '.'));
        Assert.Throws<ArgumentException>(() => new CsvLogger(path, separator: 'E'));
    }

    [Fact]
    public void TerminateOnNaN_stops_training_at_the_first_non_finite_loss()
    {
        var output = new StringWriter();
        var trainer = CallbackHarness.MakeTrainer();
        var terminate = CallbackHarness.Begin(new TerminateOnNaN { Output = output }, trainer);
        terminate.OnTrainBatchEnd(0, new Dictionary<string, double> { ["loss"] = 0.5 });
        terminate.OnTrainBatchEnd(1, new Dictionary<string, double> { ["accuracy"] = double.NaN });
        Assert.False(trainer.StopTraining);
        terminate.OnTrainBatchEnd(2, new Dictionary<string, double> { ["loss"] = double.NaN });
        Assert.True(trainer.StopTraining);
        Assert.Equal("Batch 2: Invalid loss, terminating training" + Environment.NewLine, output.ToString());

        var infinite = CallbackHarness.Begin(new TerminateOnNaN { Output = output }, CallbackHarness.MakeTrainer());
        infinite.OnTrainBatchEnd(7, new Dictionary<string, double> { ["loss"] = double.NegativeInfinity });
        Assert.True(infinite.Trainer.StopTraining);
    }

    [Fact]
    public void LambdaCallback_runs_each_delegate_at_its_hook()
    {
        var calls = new List<string>();
        var callback = new LambdaCallback(
            onTrainBegin: _ => calls.Add("train begin"),
            onTrainEnd: _ => calls.Add("train end"),
            onEpochBegin: (e, _) => calls.Add($"epoch begin {e}"),
            onEpochEnd: (e, logs) => calls.Add($"epoch end {e} loss {logs["loss"]}"),
            onTrainBatchBegin: (b, _) => calls.Add($"batch begin {b}"),
            onTrainBatchEnd: (b, _) => calls.Add($"batch end {b}"),
            onTestBegin: _ => calls.Add("test begin"),
            onTestEnd: _ => calls.Add("test end"),
            onTestBatchBegin: (b, _) => calls.Add($"test batch begin {b}"),
            onTestBatchEnd: (b, _) => calls.Add($"test batch end {b}"),
            onPredictBegin: _ => calls.Add("predict begin"),
            onPredictEnd: _ => calls.Add("predict end"),
            onPredictBatchBegin: (b, _) => calls.Add($"predict batch begin {b}"),
            onPredictBatchEnd: (b, _) => calls.Add($"predict batch end {b}"));
        var logs = new Dictionary<string, double> { ["loss"] = 0.5 };
        callback.OnTrainBegin(logs);
        callback.OnEpochBegin(3, logs);
        callback.OnTrainBatchBegin(4, logs);
        callback.OnTrainBatchEnd(4, logs);
        callback.OnTestBegin(logs);
        callback.OnTestBatchBegin(5, logs);
        callback.OnTestBatchEnd(5, logs);
        callback.OnTestEnd(logs);
        callback.OnEpochEnd(3, logs);
        callback.OnTrainEnd(logs);
        callback.OnPredictBegin(logs);
        callback.OnPredictBatchBegin(6, logs);
        callback.OnPredictBatchEnd(6, logs);
        callback.OnPredictEnd(logs);
        Assert.Equal(
            [
                "train begin", "epoch begin 3", "batch begin 4", "batch end 4", "test begin", "test batch begin 5", "test batch end 5", "test end",
                "epoch end 3 loss 0.5", "train end", "predict begin", "predict batch begin 6", "predict batch end 6", "predict end",
            ],
            calls);
        new LambdaCallback().OnEpochEnd(0, logs);
    }
}
