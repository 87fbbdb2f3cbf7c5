namespace Kiln.Models;

/// <summary>
/// Lowers the learning rate when a monitored value has stopped improving (Keras's ReduceLROnPlateau,
/// with its semantics). After each epoch a value better than the best so far by more than
/// <see cref="MinDelta"/> resets the wait; otherwise, outside a cooldown, the wait grows, and when it
/// reaches <see cref="Patience"/> every parameter group of <see cref="Trainer.Optimizer"/> whose lr is
/// above <see cref="MinLr"/> gets lr·<see cref="Factor"/> (never below MinLr), after which
/// <see cref="Cooldown"/> epochs pass before the wait counts again. Each epoch's logs get "lr": the
/// first group's learning rate during that epoch. A missing monitored value gives one warning.
/// Not to be confused with <see cref="Kiln.Optim.ReduceLROnPlateau"/>, PyTorch's scheduler for a
/// hand-written loop (it reduces after more than patience bad epochs); code that imports both
/// namespaces names this one <c>Kiln.Models.ReduceLROnPlateau</c>.
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly MonitoredValue _monitor;

    /// <summary>Watches <paramref name="monitor"/> in the epoch logs; the other parameters are Keras's.</summary>
    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0)
    {
        _monitor = new MonitoredValue(nameof(ReduceLROnPlateau), monitor, mode);
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau: factor must be in [0, 1) (a factor >= 1 would not reduce the learning rate)");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (double.IsNaN(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "ReduceLROnPlateau: minDelta must be a number");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "ReduceLROnPlateau: minLr must be >= 0");
        Factor = factor;
        Patience = patience;
        Mode = mode;
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLr = minLr;
        Best = _monitor.Worst;
    }

    /// <summary>The logs key watched ("val_loss").</summary>
    public string Monitor => _monitor.Monitor;

    /// <summary>What a reduction multiplies the learning rate by.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement after which the learning rate is reduced.</summary>
    public int Patience { get; }

    /// <summary>The direction asked for (Auto is decided from the monitored name).</summary>
    public MonitorMode Mode { get; }

    /// <summary>The smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs after a reduction during which the wait does not count.</summary>
    public int Cooldown { get; }

    /// <summary>The learning rate is never reduced below this.</summary>
    public double MinLr { get; }

    /// <summary>The best monitored value of this Fit (the worst possible value before the first).</summary>
    public double Best { get; private set; }

    /// <summary>Epochs since the last improvement, outside cooldowns (Keras's <c>wait</c>).</summary>
    public int Wait { get; private set; }

    /// <summary>Epochs of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Where the missing-value warning goes; null for the console's error stream (for tests).</summary>
    internal TextWriter? Warnings
    {
        get => _monitor.Warnings;
        set => _monitor.Warnings = value;
    }

    /// <summary>Starts counting afresh, so one instance serves several Fits.</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        Best = _monitor.Worst;
        Wait = 0;
        CooldownCounter = 0;
        _monitor.Reset();
    }

    /// <summary>Logs the epoch's "lr" and lowers it when the monitored value has stopped improving.</summary>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var groups = Trainer.Optimizer.ParamGroups;
        if (groups.Count > 0) logs["lr"] = groups[0].Lr;
        if (!_monitor.TryRead(logs, out double current)) return;
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            Wait = 0;
        }
        if (_monitor.Improves(current, Best, MinDelta))
        {
            Best = current;
            Wait = 0;
            return;
        }
        if (CooldownCounter > 0) return;
        Wait++;
        if (Wait < Patience) return;
        bool reduced = false;
        foreach (var group in groups)
        {
            if (!(group.Lr > MinLr)) continue;
            group.Lr = Math.Max(group.Lr * Factor, MinLr);
            reduced = true;
        }
        if (!reduced) return;
        CooldownCounter = Cooldown;
        Wait = 0;
    }
}
