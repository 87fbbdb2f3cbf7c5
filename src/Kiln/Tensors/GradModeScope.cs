namespace Kiln;

/// <summary>Restores the previous grad mode when disposed. Returned by <see cref="Engine.NoGrad"/> and <see cref="Engine.EnableGrad"/>.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool _previous;
    private readonly bool _previousAnomaly;
    private readonly bool _anomalyScope;

    internal GradModeScope(bool enabled)
    {
        _previous = GradMode.IsEnabled;
        _previousAnomaly = GradMode.AnomalyDetection;
        _anomalyScope = false;
        GradMode.IsEnabled = enabled;
    }

    internal GradModeScope(bool anomaly, bool _)
    {
        _previous = GradMode.IsEnabled;
        _previousAnomaly = GradMode.AnomalyDetection;
        _anomalyScope = true;
        GradMode.AnomalyDetection = anomaly;
    }

    public void Dispose()
    {
        if (_anomalyScope) GradMode.AnomalyDetection = _previousAnomaly;
        else GradMode.IsEnabled = _previous;
    }
}
