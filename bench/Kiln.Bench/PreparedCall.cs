namespace Kiln.Bench;

/// <summary>The call a workload times, and what it owns (tensors, threads) to release after timing.</summary>
internal sealed class PreparedCall(Action call, params IDisposable[] owned) : IDisposable
{
    internal Action Call { get; } = call;

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
    }
}
