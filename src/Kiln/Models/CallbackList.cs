namespace Kiln.Models;

/// <summary>
/// The callbacks of one Fit, Evaluate or Predict, called hook by hook in list order. A callback that
/// throws stops the run with a <see cref="KilnException"/> that names the callback, the hook and where
/// the run was (the original exception is its inner exception). The begin hooks get an empty log
/// dictionary (one reused instance, cleared before each hook round).
/// </summary>
internal sealed class CallbackList
{
    private readonly Trainer _trainer;
    private readonly string _operation;
    private readonly Callback[] _callbacks;
    private readonly Dictionary<string, double> _empty = new(StringComparer.Ordinal);

    /// <summary>Attaches <paramref name="callbacks"/> to <paramref name="trainer"/> for <paramref name="operation"/> ("Fit").</summary>
    internal CallbackList(Trainer trainer, string operation, IEnumerable<Callback>? callbacks)
    {
        _trainer = trainer;
        _operation = operation;
        _callbacks = callbacks is null ? [] : [.. callbacks];
        for (int i = 0; i < _callbacks.Length; i++)
        {
            if (_callbacks[i] is null)
                throw new ArgumentNullException(nameof(callbacks), $"{operation}: callback {i} of the list is null");
            _callbacks[i].Trainer = trainer;
        }
    }

    internal void TrainBegin() => Run(static (c, _, l) => c.OnTrainBegin(l), nameof(Callback.OnTrainBegin), -1, Empty());

    internal void TrainEnd(IDictionary<string, double> logs) => Run(static (c, _, l) => c.OnTrainEnd(l), nameof(Callback.OnTrainEnd), -1, logs);

    internal void EpochBegin(int epoch) => Run(static (c, e, l) => c.OnEpochBegin(e, l), nameof(Callback.OnEpochBegin), epoch, Empty());

    internal void EpochEnd(int epoch, IDictionary<string, double> logs) => Run(static (c, e, l) => c.OnEpochEnd(e, l), nameof(Callback.OnEpochEnd), epoch, logs);

    internal void TrainBatchBegin(int batch) => Run(static (c, b, l) => c.OnTrainBatchBegin(b, l), nameof(Callback.OnTrainBatchBegin), batch, Empty());

    internal void TrainBatchEnd(int batch, IDictionary<string, double> logs) => Run(static (c, b, l) => c.OnTrainBatchEnd(b, l), nameof(Callback.OnTrainBatchEnd), batch, logs);

    internal void TestBegin() => Run(static (c, _, l) => c.OnTestBegin(l), nameof(Callback.OnTestBegin), -1, Empty());

    internal void TestEnd(IDictionary<string, double> logs) => Run(static (c, _, l) => c.OnTestEnd(l), nameof(Callback.OnTestEnd), -1, logs);

    internal void TestBatchBegin(int batch) => Run(static (c, b, l) => c.OnTestBatchBegin(b, l), nameof(Callback.OnTestBatchBegin), batch, Empty());

    internal void TestBatchEnd(int batch, IDictionary<string, double> logs) => Run(static (c, b, l) => c.OnTestBatchEnd(b, l), nameof(Callback.OnTestBatchEnd), batch, logs);

    internal void PredictBegin() => Run(static (c, _, l) => c.OnPredictBegin(l), nameof(Callback.OnPredictBegin), -1, Empty());

    internal void PredictEnd() => Run(static (c, _, l) => c.OnPredictEnd(l), nameof(Callback.OnPredictEnd), -1, Empty());

    internal void PredictBatchBegin(int batch) => Run(static (c, b, l) => c.OnPredictBatchBegin(b, l), nameof(Callback.OnPredictBatchBegin), batch, Empty());

    internal void PredictBatchEnd(int batch) => Run(static (c, b, l) => c.OnPredictBatchEnd(b, l), nameof(Callback.OnPredictBatchEnd), batch, Empty());

    private Dictionary<string, double> Empty()
    {
        if (_empty.Count > 0) _empty.Clear();
        return _empty;
    }

    private void Run(Action<Callback, int, IDictionary<string, double>> hook, string name, int index, IDictionary<string, double> logs)
    {
        foreach (var callback in _callbacks)
        {
            try
            {
                hook(callback, index, logs);
            }
            catch (Exception e)
            {
                throw new KilnException($"{_operation}: callback {callback.GetType().Name}.{name} failed{Where(name, index)}: {e.GetType().Name}: {e.Message}", e);
            }
        }
    }

    private string Where(string hook, int index)
    {
        bool inFit = _operation == "Fit";
        if (hook.Contains("Epoch", StringComparison.Ordinal)) return $" at epoch {index}";
        if (hook.Contains("Train", StringComparison.Ordinal))
            return hook.Contains("Batch", StringComparison.Ordinal) ? $" at epoch {_trainer.Epoch}, batch {index}" : "";
        string pass = inFit ? $" of the validation pass of epoch {_trainer.Epoch}" : "";
        return hook.Contains("Batch", StringComparison.Ordinal) ? $" at batch {index}{pass}" : pass.Length > 0 ? " in" + pass[3..] : "";
    }
}
