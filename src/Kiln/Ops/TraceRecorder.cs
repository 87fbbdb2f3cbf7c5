namespace Kiln.Ops;

/// <summary>
/// The recording seam of the dispatcher: the recorder of this thread's trace, or null in eager mode.
/// Eager code pays one thread-static read and a null check per op for it.
/// </summary>
internal static class TraceRecorder
{
    [ThreadStatic] private static ITraceRecorder? _current;

    /// <summary>The recorder capturing this thread's ops, or null.</summary>
    internal static ITraceRecorder? Current
    {
        get => _current;
        set => _current = value;
    }

    /// <summary>
    /// Turns recording off on this thread until the returned scope ends: code that only checks its
    /// input (Embedding's index range) runs its ops and value reads without them entering the graph.
    /// The checks then run once, at trace time; the ops of the graph must still check what they need.
    /// </summary>
    internal static SuspendScope Suspend() => new(_current);

    internal readonly struct SuspendScope : IDisposable
    {
        private readonly ITraceRecorder? _suspended;

        internal SuspendScope(ITraceRecorder? suspended)
        {
            _suspended = suspended;
            _current = null;
        }

        public void Dispose() => _current = _suspended;
    }
}
