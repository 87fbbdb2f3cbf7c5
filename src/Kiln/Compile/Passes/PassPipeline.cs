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
    /// The portable passes: their result is still a graph of registered ops with their own attribute
    /// records, which is what a <c>.kiln</c> file saves. Folding runs first so simplification sees
    /// folded constants; common subexpressions are merged after both, and dead code elimination
    /// removes what they left unused. Frozen parameters become constants before all of them.
    /// </summary>
    internal static GraphPass[] Portable(CompileOptions options) => options.FreezeParameters
        ? [new FreezeParameters(), .. Portable()]
        : Portable();

    private static GraphPass[] Portable() =>
    [
        new ConstantFolding(),
        new AlgebraicSimplification(),
        new CommonSubexpressionElimination(),
        new DeadCodeElimination(),
    ];

    /// <summary>
    /// The passes that rewrite the portable graph for this executor: their nodes, such as fused
    /// elementwise chains, are internal to this runtime and never saved (loading a file runs them
    /// again). With frozen parameters, batch-norm folding first (and dead code elimination for the
    /// weights it replaced). Constant GEMM weights (frozen parameters, folded or captured tensors)
    /// and convolution weights are then packed into the microkernels' panels once, and a ReLU that alone
    /// reads a convolution is folded into it.
    /// </summary>
    internal static GraphPass[] Lowering(CompileOptions options) => options.FreezeParameters
        ? [new BatchNormFoldingPass(), new DeadCodeElimination(), new GemmWeightPrepacking(), new Conv2dFusionPass(), new ElementwiseFusionPass()]
        : [new GemmWeightPrepacking(), new Conv2dFusionPass(), new ElementwiseFusionPass()];

    /// <summary>
    /// Runs the portable passes on <paramref name="graph"/>, then the lowering passes on a copy. Returns
    /// the portable graph (<paramref name="graph"/> itself) and the graph to execute; the dump files of
    /// both are numbered as one run.
    /// </summary>
    internal static (Graph Portable, Graph Executed) Optimize(Graph graph, CompileOptions options, string? dumpDirectory)
    {
        int serial = NextSerial(dumpDirectory);
        var portable = Portable(options);
        Run(graph, portable, dumpDirectory, serial, firstStep: 0, "tracing", "Trace");
        var lowering = Lowering(options);
        if (lowering.Length == 0) return (graph, graph);
        var lowered = graph.Copy();
        Run(lowered, lowering, dumpDirectory, serial, firstStep: portable.Length, "lowering", dumpStage: null);
        return (graph, lowered);
    }

    internal static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory)
        => Run(graph, passes, dumpDirectory, "tracing", "Trace");

    /// <summary>
    /// Runs <paramref name="passes"/> after verifying the graph as it is (<paramref name="stage"/> names
    /// what made it in errors; <paramref name="dumpStage"/> names the first dump file).
    /// </summary>
    internal static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory, string stage, string dumpStage)
        => Run(graph, passes, dumpDirectory, NextSerial(dumpDirectory), firstStep: 0, stage, dumpStage);

    private static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory, int serial, int firstStep,
        string stage, string? dumpStage)
    {
        GraphVerifier.Verify(graph, stage);
        if (dumpStage is not null) Dump(graph, dumpDirectory, serial, firstStep, dumpStage);
        for (int i = 0; i < passes.Count; i++)
        {
            passes[i].Run(graph);
            GraphVerifier.Verify(graph, passes[i].Name);
            Dump(graph, dumpDirectory, serial, firstStep + i + 1, passes[i].Name);
        }
    }

    private static int NextSerial(string? dumpDirectory) => dumpDirectory is null ? 0 : Interlocked.Increment(ref _dumpSerial);

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
