namespace Kiln.Compile;

/// <summary>
/// Removes nodes whose results no output depends on, then the parameters and constants nothing reads
/// (a removed constant's memory is released). Graph inputs stay: they are positional.
/// </summary>
internal sealed class DeadCodeElimination : GraphPass
{
    internal override string Name => nameof(DeadCodeElimination);

    internal override bool Run(Graph graph)
    {
        var live = new HashSet<GraphValue>(graph.Outputs, ReferenceEqualityComparer.Instance);
        int before = graph.Nodes.Count + graph.Parameters.Count + graph.Constants.Count;
        var kept = new List<GraphNode>(graph.Nodes.Count);
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            // A random draw stays even when unused: it advances the random stream, as the eager code did.
            if (!live.Contains(node.Output) && !node.Op.IsRandom) continue;
            kept.Add(node);
            foreach (var input in node.Inputs) live.Add(input);
        }
        kept.Reverse();
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        graph.Parameters.RemoveAll(p => !live.Contains(p));
        graph.Constants.RemoveAll(c =>
        {
            if (live.Contains(c)) return false;
            c.Data?.Dispose();
            return true;
        });
        return graph.Nodes.Count + graph.Parameters.Count + graph.Constants.Count != before;
    }
}
