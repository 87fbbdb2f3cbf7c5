namespace Kiln;

/// <summary>
/// Per-thread autograd switches. They live in the tensors layer because the dispatcher (ops) reads them
/// on every call; the user-facing scopes are on <see cref="Engine"/>.
/// </summary>
internal static class GradMode
{
    [ThreadStatic] private static bool _disabled;
    [ThreadStatic] private static bool _anomaly;

    internal static bool IsEnabled
    {
        get => !_disabled;
        set => _disabled = !value;
    }

    internal static bool AnomalyDetection
    {
        get => _anomaly;
        set => _anomaly = value;
    }
}
