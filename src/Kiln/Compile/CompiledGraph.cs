namespace Kiln.Compile;

/// <summary>
/// One traced (or loaded) signature of a <see cref="CompiledFunction"/>: its optimized graph, the
/// executor that replays it, the portable graph a <c>.kiln</c> file saves (the same object unless
/// lowering passes rewrote a copy), and the layout of each parameter when it was planned (a parameter
/// whose dtype or strides changed since, by Module.To or a state-dict load, makes the graph trace
/// again).
/// </summary>
internal sealed class CompiledGraph : IDisposable
{
    private readonly (Tensor Tensor, DType DType, int[] Strides)[] _parameters;

    private GraphExecutor? _executor;

    internal CompiledGraph(TraceSignature signature, Graph portable, Graph graph)
    {
        Signature = signature;
        Portable = portable;
        Graph = graph;
        _parameters = new (Tensor, DType, int[])[graph.Parameters.Count];
        for (int i = 0; i < _parameters.Length; i++)
        {
            var t = graph.Parameters[i].Data!;
            _parameters[i] = (t, t.DType, t.Strides);
        }
    }

    internal TraceSignature Signature { get; }

    /// <summary>The graph after the portable passes only: registered ops and their attribute records.</summary>
    internal Graph Portable { get; }

    /// <summary>The graph the executor runs (after the lowering passes too).</summary>
    internal Graph Graph { get; }

    /// <summary>
    /// The executor, its memory planned and allocated at first use (a traced graph makes it at once; a
    /// loaded one at its first call, so loading a file allocates no more than the file holds).
    /// </summary>
    internal GraphExecutor Executor => _executor ??= new GraphExecutor(Graph, MemoryPlanningPass.Plan(Graph));

    /// <summary>True while every parameter still has the dtype and layout the plan was made for.</summary>
    internal bool ParametersUnchanged()
    {
        foreach (var (t, dtype, strides) in _parameters)
            if (t.IsDisposed || t.DType != dtype || !t.StridesArray.AsSpan().SequenceEqual(strides)) return false;
        return true;
    }

    public void Dispose()
    {
        _executor?.Dispose();
        _executor = null;
        Graph.DisposeConstants();
        if (!ReferenceEquals(Portable, Graph)) Portable.DisposeConstants();
    }
}
