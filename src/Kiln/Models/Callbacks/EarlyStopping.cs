namespace Kiln.Models;

/// <summary>
/// Stops Fit when a monitored value has stopped improving (Keras 3's EarlyStopping, with its semantics).
/// After each epoch from <see cref="StartFromEpoch"/> on, a value better than the best so far by more
/// than <see cref="MinDelta"/> is an improvement; the <see cref="Patience"/>-th watched epoch in a row
/// without one (the first, for patience 0 or 1) sets <see cref="Trainer.StopTraining"/>, never at epoch 0.
/// With a <see cref="Baseline"/>, an improvement restarts the count only when it also beats the baseline
/// by MinDelta, so a run that stays short of the baseline stops at its first epoch without improvement
/// once Patience epochs have passed. With <see cref="RestoreBestWeights"/> a copy of the model's state
/// dict is kept from the best epoch and loaded back at the end of the Fit (whether or not it stopped
/// early, as Keras 3). A missing monitored value gives one warning per Fit and the epoch is skipped.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private readonly MonitoredValue _monitor;
    private Dictionary<string, Tensor>? _bestWeights;

    /// <summary>Watches <paramref name="monitor"/> in the epoch logs; the other parameters are Keras's.</summary>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, MonitorMode mode = MonitorMode.Auto,
        double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0)
    {
        _monitor = new MonitoredValue(nameof(EarlyStopping), monitor, mode);
        if (double.IsNaN(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "EarlyStopping: minDelta must be a number");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(startFromEpoch);
        if (baseline is double b && double.IsNaN(b)) throw new ArgumentOutOfRangeException(nameof(baseline), baseline, "EarlyStopping: baseline must be a number");
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        Mode = mode;
        Baseline = baseline;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
    }

    /// <summary>The logs key watched ("val_loss").</summary>
    public string Monitor => _monitor.Monitor;

    /// <summary>The smallest change that counts as an improvement (the absolute value of the argument, as in Keras).</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement after which training stops.</summary>
    public int Patience { get; }

    /// <summary>The direction asked for (Auto is decided from the monitored name).</summary>
    public MonitorMode Mode { get; }

    /// <summary>A value the monitored value must beat to count as improving, or null.</summary>
    public double? Baseline { get; }

    /// <summary>Whether the weights of the best epoch are loaded back at the end of training.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>Epochs before this one (0-based) are not watched (a warm-up).</summary>
    public int StartFromEpoch { get; }

    /// <summary>The epoch (0-based) at which training was stopped, or 0 when it was not (as Keras's <c>stopped_epoch</c>).</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The best monitored value of this Fit, or null before the first watched epoch.</summary>
    public double? BestValue { get; private set; }

    /// <summary>The epoch (0-based) of <see cref="BestValue"/>.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Watched epochs since the last improvement (Keras's <c>wait</c>).</summary>
    public int Wait { get; private set; }

    /// <summary>Where the missing-value warning goes; null for the console's error stream (for tests).</summary>
    internal TextWriter? Warnings
    {
        get => _monitor.Warnings;
        set => _monitor.Warnings = value;
    }

    /// <summary>Starts counting afresh, so one instance serves several Fits.</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        Wait = 0;
        StoppedEpoch = 0;
        BestValue = null;
        BestEpoch = 0;
        DisposeBestWeights();
        _monitor.Reset();
    }

    /// <summary>Compares the epoch's value with the best so far and stops training when patience has run out.</summary>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (!_monitor.TryRead(logs, out double current) || epoch < StartFromEpoch) return;
        Wait++;
        if (BestValue is not double best || _monitor.Improves(current, best, MinDelta))
        {
            BestValue = current;
            BestEpoch = epoch;
            if (RestoreBestWeights)
            {
                DisposeBestWeights();
                _bestWeights = CopyWeights();
            }
            if (Baseline is not double baseline || _monitor.Improves(current, baseline, MinDelta)) Wait = 0;
            return;
        }
        if (Wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Trainer.StopTraining = true;
        }
    }

    /// <summary>Loads the best epoch's weights back when <see cref="RestoreBestWeights"/> is set.</summary>
    public override void OnTrainEnd(IDictionary<string, double> logs)
    {
        if (_bestWeights is null) return;
        Model.LoadStateDict(_bestWeights);
        DisposeBestWeights();
    }

    private Dictionary<string, Tensor> CopyWeights()
    {
        var copies = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (Engine.NoGrad())
        {
            foreach (var (name, view) in Model.StateDict())
            {
                copies[name] = view.Clone().DetachFromScope();
                view.Dispose();
            }
        }
        return copies;
    }

    private void DisposeBestWeights()
    {
        if (_bestWeights is null) return;
        foreach (var tensor in _bestWeights.Values) tensor.Dispose();
        _bestWeights = null;
    }
}
