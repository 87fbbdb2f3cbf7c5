namespace Kiln.Compile;

/// <summary>
/// Runs the graph passes in order. The verifier runs on the traced graph and after every pass (it
/// only re-infers shapes, so it costs little next to tracing), and an error names the pass that broke
/// the graph. With a dump directory (KILN_DUMP_GRAPH) the printed graph is written after tracing and
/// after each pass, as &lt;graph&gt;-&lt;n&gt;.&lt;step&gt;-&lt;pass&gt;.txt.
/// </summary>
internal static class PassPipeline
{
    private static int _dumpSerial;

    /// <summary>
    /// The default passes. Folding runs first so simplification sees folded constants; common
    /// subexpressions are merged after both, and dead code elimination removes what they left unused.
    /// </summary>
    internal static GraphPass[] Default() =>
    [
        new ConstantFolding(),
        new AlgebraicSimplification(),
        new CommonSubexpressionElimination(),
        new DeadCodeElimination(),
    ];

    /// <summary>
    /// The passes that run on the portable graph to make the graph compiled functions run: they come
    /// after <see cref="Default"/> (and after the point where a graph is saved), and their nodes, such as
    /// fused elementwise chains, are internal to this runtime. With frozen parameters, batch-norm folding
    /// first (and dead code elimination for the weights it replaced).
    /// </summary>
    internal static GraphPass[] Lowering(CompileOptions options) => options.FreezeParameters
        ? [new BatchNormFoldingPass(), new DeadCodeElimination(), new ElementwiseFusionPass()]
        : [new ElementwiseFusionPass()];

    /// <summary>The portable passes for <paramref name="options"/>: <see cref="Default"/>, after freezing the parameters when asked.</summary>
    internal static GraphPass[] Portable(CompileOptions options) => options.FreezeParameters
        ? [new FreezeParameters(), .. Default()]
        : Default();

    internal static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory)
        => Run(graph, passes, dumpDirectory, "tracing", "Trace");

    /// <summary>
    /// Runs the portable passes, then <paramref name="afterPortable"/> on the portable graph (where it
    /// is kept or saved), then the lowering passes, numbering the dump files as one run.
    /// </summary>
    internal static void Run(Graph graph, IReadOnlyList<GraphPass> portable, IReadOnlyList<GraphPass> lowering,
        string? dumpDirectory, Action<Graph>? afterPortable)
    {
        var all = new GraphPass[portable.Count + lowering.Count];
        for (int i = 0; i < portable.Count; i++) all[i] = portable[i];
        for (int i = 0; i < lowering.Count; i++) all[portable.Count + i] = lowering[i];
        Run(graph, all, dumpDirectory, "tracing", "Trace", portable.Count, afterPortable);
    }

    /// <summary>
    /// Runs <paramref name="passes"/> after verifying the graph as it is (<paramref name="stage"/> names
    /// what made it in errors; <paramref name="dumpStage"/> names the first dump file), calling
    /// <paramref name="checkpoint"/> once the first <paramref name="checkpointAfter"/> passes ran.
    /// </summary>
    internal static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory, string stage, string dumpStage,
        int checkpointAfter = -1, Action<Graph>? checkpoint = null)
    {
        int serial = dumpDirectory is null ? 0 : Interlocked.Increment(ref _dumpSerial);
        GraphVerifier.Verify(graph, stage);
        Dump(graph, dumpDirectory, serial, 0, dumpStage);
        for (int i = 0; i < passes.Count; i++)
        {
            if (i == checkpointAfter) checkpoint?.Invoke(graph);
            passes[i].Run(graph);
            GraphVerifier.Verify(graph, passes[i].Name);
            Dump(graph, dumpDirectory, serial, i + 1, passes[i].Name);
        }
        if (checkpointAfter == passes.Count) checkpoint?.Invoke(graph);
    }

    private static void Dump(Graph graph, string? directory, int serial, int step, string stage)
    {
        if (directory is null) return;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{graph.Name}-{serial}.{step:00}-{stage}.txt");
        // Written beside the target and renamed, so a reader never sees half a file.
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, graph.ToString());
        File.Move(temporary, path, overwrite: true);
    }
}
