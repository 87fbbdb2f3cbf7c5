namespace Kiln.Optim;

/// <summary>How <see cref="ReduceLROnPlateau"/> decides that a metric improved on the best so far.</summary>
public enum ThresholdMode
{
    /// <summary>Relative: better than best·(1 − threshold) in min mode, best·(1 + threshold) in max mode.</summary>
    Rel,

    /// <summary>Absolute: better than best − threshold in min mode, best + threshold in max mode.</summary>
    Abs,
}
