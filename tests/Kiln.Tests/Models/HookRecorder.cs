using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>A test callback that records every hook call ("EpochBegin 0") and a copy of each epoch's logs.</summary>
internal sealed class HookRecorder : Callback
{
    public List<string> Calls { get; } = [];

    public List<Dictionary<string, double>> EpochLogs { get; } = [];

    public Action<string, int, IDictionary<string, double>>? OnCall { get; init; }

    private void Record(string hook, int index, IDictionary<string, double> logs)
    {
        Calls.Add(index < 0 ? hook : $"{hook} {index}");
        OnCall?.Invoke(hook, index, logs);
    }

    public override void OnTrainBegin(IDictionary<string, double> logs) => Record("TrainBegin", -1, logs);
    public override void OnTrainEnd(IDictionary<string, double> logs) => Record("TrainEnd", -1, logs);
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => Record("EpochBegin", epoch, logs);

    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        EpochLogs.Add(new Dictionary<string, double>(logs));
        Record("EpochEnd", epoch, logs);
    }

    public override void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) => Record("TrainBatchBegin", batch, logs);
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) => Record("TrainBatchEnd", batch, logs);
    public override void OnTestBegin(IDictionary<string, double> logs) => Record("TestBegin", -1, logs);
    public override void OnTestEnd(IDictionary<string, double> logs) => Record("TestEnd", -1, logs);
    public override void OnTestBatchBegin(int batch, IDictionary<string, double> logs) => Record("TestBatchBegin", batch, logs);
    public override void OnTestBatchEnd(int batch, IDictionary<string, double> logs) => Record("TestBatchEnd", batch, logs);
    public override void OnPredictBegin(IDictionary<string, double> logs) => Record("PredictBegin", -1, logs);
    public override void OnPredictEnd(IDictionary<string, double> logs) => Record("PredictEnd", -1, logs);
    public override void OnPredictBatchBegin(int batch, IDictionary<string, double> logs) => Record("PredictBatchBegin", batch, logs);
    public override void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) => Record("PredictBatchEnd", batch, logs);
}
