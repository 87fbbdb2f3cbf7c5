namespace Kiln.Compile;

/// <summary>
/// One traced signature of a <see cref="CompiledFunction"/>: its optimized graph, the executor that
/// replays it, and the layout of each parameter when it was planned (a parameter whose dtype or
/// strides changed since, by Module.To or a state-dict load, makes the graph trace again).
/// </summary>
internal sealed class CompiledGraph : IDisposable
{
    private readonly (Tensor Tensor, DType DType, int[] Strides)[] _parameters;

    internal CompiledGraph(TraceSignature signature, Graph graph, GraphExecutor executor)
    {
        Signature = signature;
        Graph = graph;
        Executor = executor;
        _parameters = new (Tensor, DType, int[])[graph.Parameters.Count];
        for (int i = 0; i < _parameters.Length; i++)
        {
            var t = graph.Parameters[i].Data!;
            _parameters[i] = (t, t.DType, t.Strides);
        }
    }

    internal TraceSignature Signature { get; }
    internal Graph Graph { get; }
    internal GraphExecutor Executor { get; }

    /// <summary>True while every parameter still has the dtype and layout the plan was made for.</summary>
    internal bool ParametersUnchanged()
    {
        foreach (var (t, dtype, strides) in _parameters)
            if (t.IsDisposed || t.DType != dtype || !t.StridesArray.AsSpan().SequenceEqual(strides)) return false;
        return true;
    }

    public void Dispose()
    {
        Executor.Dispose();
        Graph.DisposeConstants();
    }
}
