namespace Kiln.Models;

/// <summary>
/// The value a callback watches in the epoch logs ("val_loss"): which direction is better, whether a
/// new value improves on a reference by a margin, and the one warning (per Fit) when the logs lack it,
/// which Keras gives instead of failing.
/// </summary>
internal sealed class MonitoredValue
{
    // Parts of the names of metrics that improve upwards (Keras's metrics with direction "up").
    private static readonly string[] UpwardNames = ["acc", "auc", "precision", "recall", "f1", "iou"];

    private readonly string _callback;
    private bool _warned;

    internal MonitoredValue(string callback, string monitor, MonitorMode mode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(monitor);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{callback}: mode must be Auto, Min or Max");
        _callback = callback;
        Monitor = monitor;
        HigherIsBetter = mode == MonitorMode.Max || (mode == MonitorMode.Auto && ImprovesUpwards(monitor));
    }

    /// <summary>The logs key watched.</summary>
    internal string Monitor { get; }

    /// <summary>Whether larger values are better.</summary>
    internal bool HigherIsBetter { get; }

    /// <summary>Where the warning goes; null for the console's error stream.</summary>
    internal TextWriter? Warnings { get; set; }

    /// <summary>The worst possible value: every real value improves on it.</summary>
    internal double Worst => HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;

    /// <summary>Whether auto mode maximizes <paramref name="monitor"/>: its name without "val_" names an accuracy, AUC, precision, recall, F1 or IoU and is not a loss.</summary>
    internal static bool ImprovesUpwards(string monitor)
    {
        var name = monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor[4..] : monitor;
        if (name.EndsWith("loss", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var part in UpwardNames)
            if (name.Contains(part, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Whether <paramref name="value"/> beats <paramref name="reference"/> by more than <paramref name="margin"/> in the better direction.</summary>
    internal bool Improves(double value, double reference, double margin)
        => HigherIsBetter ? value - margin > reference : value + margin < reference;

    /// <summary>Forgets that the warning was given (a new Fit warns again).</summary>
    internal void Reset() => _warned = false;

    /// <summary>The watched value of <paramref name="logs"/>; false, with a warning the first time, when it is missing.</summary>
    internal bool TryRead(IDictionary<string, double>? logs, out double value)
    {
        if (logs is not null && logs.TryGetValue(Monitor, out value)) return true;
        value = double.NaN;
        if (_warned) return false;
        _warned = true;
        string available = logs is null ? "" : string.Join(", ", logs.Keys);
        (Warnings ?? Console.Error).WriteLine($"{_callback}: conditioned on metric \"{Monitor}\", which is not available. Available metrics are: {available}");
        return false;
    }
}
