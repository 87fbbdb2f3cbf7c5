using System.Runtime.CompilerServices;

namespace Kiln.Compile;

/// <summary>
/// Computes each distinct expression once: a node with the same op, an equal attribute record (records
/// compare by value) and the same input values as an earlier node is replaced by that node's result.
/// Constants with the same dtype, shape and bytes are merged first, so x * 2 traced twice through two
/// different scalar tensors is still found. Every op is pure (random draws are not graph ops), so
/// this is always safe.
/// </summary>
internal sealed class CommonSubexpressionElimination : GraphPass
{
    internal override string Name => nameof(CommonSubexpressionElimination);

    internal override bool Run(Graph graph)
    {
        var replaced = NewReplacementMap();
        MergeConstants(graph, replaced);
        var seen = new Dictionary<GraphNode, GraphValue>(NodeComparer.Instance);
        var kept = new List<GraphNode>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            for (int i = 0; i < node.Inputs.Length; i++) node.Inputs[i] = Resolve(replaced, node.Inputs[i]);
            if (!node.Op.IsRandom && seen.TryGetValue(node, out var earlier))
            {
                replaced[node.Output] = earlier;
                continue;
            }
            if (!node.Op.IsRandom) seen.Add(node, node.Output);
            kept.Add(node);
        }
        bool changed = replaced.Count > 0;
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        ApplyReplacements(graph, replaced);
        return changed;
    }

    private static void MergeConstants(Graph graph, Dictionary<GraphValue, GraphValue> replaced)
    {
        var kept = new List<GraphValue>(graph.Constants.Count);
        foreach (var c in graph.Constants)
        {
            GraphValue? same = null;
            foreach (var k in kept)
                if (k.Spec == c.Spec && k.Data!.RawBytes().SequenceEqual(c.Data!.RawBytes()))
                {
                    same = k;
                    break;
                }
            if (same is null)
            {
                kept.Add(c);
                continue;
            }
            replaced[c] = same;
            c.Data?.Dispose();
        }
        graph.Constants.Clear();
        graph.Constants.AddRange(kept);
    }

    /// <summary>Nodes equal as expressions: the same op, equal attributes, the same input values.</summary>
    private sealed class NodeComparer : IEqualityComparer<GraphNode>
    {
        internal static readonly NodeComparer Instance = new();

        public bool Equals(GraphNode? a, GraphNode? b)
        {
            if (a is null || b is null) return ReferenceEquals(a, b);
            if (!ReferenceEquals(a.Op, b.Op) || !a.Attributes.Equals(b.Attributes) || a.Inputs.Length != b.Inputs.Length) return false;
            for (int i = 0; i < a.Inputs.Length; i++)
                if (!ReferenceEquals(a.Inputs[i], b.Inputs[i])) return false;
            return true;
        }

        public int GetHashCode(GraphNode node)
        {
            var h = new HashCode();
            h.Add(RuntimeHelpers.GetHashCode(node.Op));
            h.Add(node.Attributes);
            foreach (var input in node.Inputs) h.Add(RuntimeHelpers.GetHashCode(input));
            return h.ToHashCode();
        }
    }
}
