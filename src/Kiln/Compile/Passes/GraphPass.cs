namespace Kiln.Compile;

/// <summary>
/// One small, named rewrite of a <see cref="Graph"/>. The <see cref="PassPipeline"/> runs passes in
/// order, verifies the graph after each and, when asked, writes it to a dump file named after the pass.
/// </summary>
internal abstract class GraphPass
{
    /// <summary>The pass's name in dumps and verifier errors ("DeadCodeElimination").</summary>
    internal abstract string Name { get; }

    /// <summary>Rewrites <paramref name="graph"/>; returns whether anything changed.</summary>
    internal abstract bool Run(Graph graph);

    /// <summary>
    /// Rewrites node inputs and graph outputs through <paramref name="replaced"/> (a value to the value
    /// that now stands for it, possibly itself replaced), in one walk.
    /// </summary>
    protected static void ApplyReplacements(Graph graph, Dictionary<GraphValue, GraphValue> replaced)
    {
        if (replaced.Count == 0) return;
        foreach (var node in graph.Nodes)
            for (int i = 0; i < node.Inputs.Length; i++) node.Inputs[i] = Resolve(replaced, node.Inputs[i]);
        for (int i = 0; i < graph.Outputs.Count; i++) graph.Outputs[i] = Resolve(replaced, graph.Outputs[i]);
    }

    /// <summary>What <paramref name="value"/> stands for after the replacements so far.</summary>
    protected static GraphValue Resolve(Dictionary<GraphValue, GraphValue> replaced, GraphValue value)
    {
        while (replaced.TryGetValue(value, out var next)) value = next;
        return value;
    }

    /// <summary>A map from values to their replacements, by identity.</summary>
    protected static Dictionary<GraphValue, GraphValue> NewReplacementMap() => new(ReferenceEqualityComparer.Instance);
}
