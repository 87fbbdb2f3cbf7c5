namespace Kiln.Models;

/// <summary>
/// A callback made of delegates, for small jobs that need no class of their own (Keras's
/// LambdaCallback): <c>new LambdaCallback(onEpochEnd: (epoch, logs) =&gt; Console.WriteLine(logs["loss"]))</c>.
/// Each delegate runs at the hook of the same name; hooks without one do nothing.
/// </summary>
public sealed class LambdaCallback : Callback
{
    private readonly Action<IDictionary<string, double>>? _onTrainBegin, _onTrainEnd, _onTestBegin, _onTestEnd, _onPredictBegin, _onPredictEnd;
    private readonly Action<int, IDictionary<string, double>>? _onEpochBegin, _onEpochEnd, _onTrainBatchBegin, _onTrainBatchEnd,
        _onTestBatchBegin, _onTestBatchEnd, _onPredictBatchBegin, _onPredictBatchEnd;

    /// <summary>A callback running the given delegates; the epoch and batch hooks get the 0-based index and the logs.</summary>
    public LambdaCallback(
        Action<IDictionary<string, double>>? onTrainBegin = null,
        Action<IDictionary<string, double>>? onTrainEnd = null,
        Action<int, IDictionary<string, double>>? onEpochBegin = null,
        Action<int, IDictionary<string, double>>? onEpochEnd = null,
        Action<int, IDictionary<string, double>>? onTrainBatchBegin = null,
        Action<int, IDictionary<string, double>>? onTrainBatchEnd = null,
        Action<IDictionary<string, double>>? onTestBegin = null,
        Action<IDictionary<string, double>>? onTestEnd = null,
        Action<int, IDictionary<string, double>>? onTestBatchBegin = null,
        Action<int, IDictionary<string, double>>? onTestBatchEnd = null,
        Action<IDictionary<string, double>>? onPredictBegin = null,
        Action<IDictionary<string, double>>? onPredictEnd = null,
        Action<int, IDictionary<string, double>>? onPredictBatchBegin = null,
        Action<int, IDictionary<string, double>>? onPredictBatchEnd = null)
    {
        (_onTrainBegin, _onTrainEnd, _onEpochBegin, _onEpochEnd, _onTrainBatchBegin, _onTrainBatchEnd) =
            (onTrainBegin, onTrainEnd, onEpochBegin, onEpochEnd, onTrainBatchBegin, onTrainBatchEnd);
        (_onTestBegin, _onTestEnd, _onTestBatchBegin, _onTestBatchEnd) = (onTestBegin, onTestEnd, onTestBatchBegin, onTestBatchEnd);
        (_onPredictBegin, _onPredictEnd, _onPredictBatchBegin, _onPredictBatchEnd) = (onPredictBegin, onPredictEnd, onPredictBatchBegin, onPredictBatchEnd);
    }

    /// <inheritdoc/>
    public override void OnTrainBegin(IDictionary<string, double> logs) => _onTrainBegin?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnTrainEnd(IDictionary<string, double> logs) => _onTrainEnd?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => _onEpochBegin?.Invoke(epoch, logs);

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => _onEpochEnd?.Invoke(epoch, logs);

    /// <inheritdoc/>
    public override void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) => _onTrainBatchBegin?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) => _onTrainBatchEnd?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnTestBegin(IDictionary<string, double> logs) => _onTestBegin?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnTestEnd(IDictionary<string, double> logs) => _onTestEnd?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnTestBatchBegin(int batch, IDictionary<string, double> logs) => _onTestBatchBegin?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnTestBatchEnd(int batch, IDictionary<string, double> logs) => _onTestBatchEnd?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnPredictBegin(IDictionary<string, double> logs) => _onPredictBegin?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnPredictEnd(IDictionary<string, double> logs) => _onPredictEnd?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnPredictBatchBegin(int batch, IDictionary<string, double> logs) => _onPredictBatchBegin?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) => _onPredictBatchEnd?.Invoke(batch, logs);
}
