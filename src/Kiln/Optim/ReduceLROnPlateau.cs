using System.Globalization;

namespace Kiln.Optim;

/// <summary>
/// Lowers each group's lr by <c>factor</c> when a watched metric has not improved for more than
/// <c>patience</c> calls of <see cref="Step"/>, then waits <c>cooldown</c> calls before counting again; an lr
/// never goes below <c>minLr</c>, and a cut smaller than <c>eps</c> is skipped
/// (torch.optim.lr_scheduler.ReduceLROnPlateau). Call <see cref="Step"/> with the metric after each epoch.
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly PlateauMode _mode;
    private readonly double _factor;
    private readonly int _patience;
    private readonly double _threshold;
    private readonly ThresholdMode _thresholdMode;
    private readonly int _cooldown;
    private readonly double _minLr;
    private readonly double _eps;
    private double[] _lastLr;

    /// <summary>Watches a metric for <paramref name="optimizer"/>: lower is better in <see cref="PlateauMode.Min"/>, higher in <see cref="PlateauMode.Max"/>.</summary>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10, double threshold = 1e-4,
        ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (mode is not (PlateauMode.Min or PlateauMode.Max)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "ReduceLROnPlateau: mode must be Min or Max");
        if (thresholdMode is not (ThresholdMode.Rel or ThresholdMode.Abs))
            throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "ReduceLROnPlateau: thresholdMode must be Rel or Abs");
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau: factor should be < 1.0 (and >= 0)");
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "ReduceLROnPlateau: patience must be >= 0");
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "ReduceLROnPlateau: cooldown must be >= 0");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "ReduceLROnPlateau: minLr must be >= 0");
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "ReduceLROnPlateau: threshold must be a number");
        Optimizer = optimizer;
        _mode = mode;
        _factor = factor;
        _patience = patience;
        _threshold = threshold;
        _thresholdMode = thresholdMode;
        _cooldown = cooldown;
        _minLr = minLr;
        _eps = eps;
        Best = WorstValue;
        _lastLr = optimizer.ParamGroups.Select(g => g.Lr).ToArray();
    }

    /// <summary>The optimizer whose groups' lr this schedule lowers.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Calls of <see cref="Step"/> so far.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The best metric so far (+∞ in min mode, −∞ in max mode before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>Consecutive steps without improvement (not counted during a cooldown).</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>Steps of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Each group's lr after the latest step.</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    private double WorstValue => _mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    /// <summary>Records <paramref name="metric"/> for one epoch and lowers the lr if it has stopped improving.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else
        {
            NumBadEpochs++;
        }
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            NumBadEpochs = 0;
        }
        if (NumBadEpochs > _patience)
        {
            ReduceLr();
            CooldownCounter = _cooldown;
            NumBadEpochs = 0;
        }
        _lastLr = Optimizer.ParamGroups.Select(g => g.Lr).ToArray();
    }

    /// <summary>The progress as scalars: "last_epoch", "best", "num_bad_epochs", "cooldown_counter", "_last_lr.{i}".</summary>
    public IReadOnlyDictionary<string, double> StateDict()
    {
        var state = new Dictionary<string, double>
        {
            ["last_epoch"] = LastEpoch,
            ["best"] = Best,
            ["num_bad_epochs"] = NumBadEpochs,
            ["cooldown_counter"] = CooldownCounter,
        };
        SchedulerState.PutList(state, "_last_lr", _lastLr);
        return state;
    }

    /// <summary>Restores the progress saved by <see cref="StateDict"/>; every key is checked before anything changes.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var reader = new SchedulerState(nameof(ReduceLROnPlateau), state);
        int lastEpoch = reader.Whole("last_epoch", 0);
        double best = reader.Number("best");
        int bad = reader.Whole("num_bad_epochs", 0);
        int cooldown = reader.Whole("cooldown_counter", 0);
        var lastLr = reader.List("_last_lr", Optimizer.ParamGroups.Count);
        reader.EnsureAllRead();
        if (double.IsNaN(best))
            throw new KilnException($"ReduceLROnPlateau.LoadStateDict: 'best' is {best.ToString(CultureInfo.InvariantCulture)}");
        LastEpoch = lastEpoch;
        Best = best;
        NumBadEpochs = bad;
        CooldownCounter = cooldown;
        _lastLr = lastLr;
    }

    private bool IsBetter(double a, double best) => (_mode, _thresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1.0 - _threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - _threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (_threshold + 1.0),
        _ => a > best + _threshold,
    };

    private void ReduceLr()
    {
        foreach (var group in Optimizer.ParamGroups)
        {
            double oldLr = group.Lr;
            double newLr = Math.Max(oldLr * _factor, _minLr);
            if (oldLr - newLr > _eps) group.Lr = newLr;
        }
    }
}
