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
    /// Then the CPU-specific rewrites: constant GEMM weights are packed into panels once.
    /// </summary>
    internal static GraphPass[] Default() =>
    [
        new ConstantFolding(),
        new AlgebraicSimplification(),
        new CommonSubexpressionElimination(),
        new DeadCodeElimination(),
        new GemmWeightPrepacking(),
    ];

    internal static void Run(Graph graph, IReadOnlyList<GraphPass> passes, string? dumpDirectory)
    {
        int serial = dumpDirectory is null ? 0 : Interlocked.Increment(ref _dumpSerial);
        GraphVerifier.Verify(graph, "tracing");
        Dump(graph, dumpDirectory, serial, 0, "Trace");
        for (int i = 0; i < passes.Count; i++)
        {
            passes[i].Run(graph);
            GraphVerifier.Verify(graph, passes[i].Name);
            Dump(graph, dumpDirectory, serial, i + 1, passes[i].Name);
        }
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
