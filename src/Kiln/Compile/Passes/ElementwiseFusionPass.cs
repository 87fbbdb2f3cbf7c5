using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Merges chains and small DAGs of elementwise nodes into one <see cref="FusedElementwiseOp"/> node
/// that runs tile by tile, so intermediate results never reach memory. A group grows backwards from
/// its last node through producers that are elementwise, compute the group's result shape (smaller
/// operands such as a bias are inputs, broadcast in each tile), and are read only inside the group:
/// a value also used elsewhere, or returned, stays materialized and ends the chain. Views, reductions
/// and opaque ops are not fused. Results larger than <see cref="MaxElements"/> are left to the
/// unfused kernels, which spread big loops over the worker threads (the fused loop runs on one).
/// A lowering pass: it runs after the portable passes and its nodes are never saved.
/// </summary>
internal sealed class ElementwiseFusionPass : GraphPass
{
    /// <summary>Results up to this size are fused: the size under which the elementwise kernels run on the calling thread anyway.</summary>
    internal const long MaxElements = 2L * ElementwiseLoop.MinShare;

    internal override string Name => nameof(ElementwiseFusionPass);

    internal override bool Run(Graph graph)
    {
        var nodes = graph.Nodes;
        var byIdentity = ReferenceEqualityComparer.Instance;
        var position = new Dictionary<GraphNode, int>(byIdentity);
        var consumers = new Dictionary<GraphValue, List<GraphNode>>(byIdentity);
        for (int i = 0; i < nodes.Count; i++)
        {
            position[nodes[i]] = i;
            foreach (var input in nodes[i].Inputs)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = new List<GraphNode>();
                if (!list.Contains(nodes[i])) list.Add(nodes[i]);
            }
        }
        var returned = new HashSet<GraphValue>(graph.Outputs, byIdentity);
        var taken = new HashSet<GraphNode>(byIdentity);
        var fused = new Dictionary<GraphNode, GraphNode>(byIdentity);
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var root = nodes[i];
            if (taken.Contains(root) || !Fusible(root)) continue;
            var group = Grow(root, consumers, returned, taken);
            if (group.Count < 2) continue;
            group.Sort((a, b) => position[a].CompareTo(position[b]));
            foreach (var member in group) taken.Add(member);
            fused[root] = Fuse(group);
        }
        if (fused.Count == 0) return false;

        var kept = new List<GraphNode>(nodes.Count);
        foreach (var node in nodes)
        {
            if (fused.TryGetValue(node, out var replacement)) kept.Add(replacement);
            else if (!taken.Contains(node)) kept.Add(node);
        }
        nodes.Clear();
        nodes.AddRange(kept);
        foreach (var (root, replacement) in fused) graph.ReplaceAllUses(root.Output, replacement.Output);
        return true;
    }

    private static bool Fusible(GraphNode node)
        => node.Op is IPerElementOp && node.Output.Spec.Shape.NumElements <= MaxElements;

    /// <summary>The nodes that fuse with <paramref name="root"/>: grown until no producer qualifies.</summary>
    private static List<GraphNode> Grow(GraphNode root, Dictionary<GraphValue, List<GraphNode>> consumers,
        HashSet<GraphValue> returned, HashSet<GraphNode> taken)
    {
        var shape = root.Output.Spec.Shape;
        var group = new List<GraphNode> { root };
        var members = new HashSet<GraphNode>(ReferenceEqualityComparer.Instance) { root };
        bool grew = true;
        while (grew)
        {
            grew = false;
            for (int m = 0; m < group.Count; m++)
                foreach (var input in group[m].Inputs)
                {
                    if (input.Producer is not { } producer || members.Contains(producer) || taken.Contains(producer)) continue;
                    if (!Fusible(producer) || input.Spec.Shape != shape || returned.Contains(input)) continue;
                    if (!consumers[input].TrueForAll(members.Contains)) continue;
                    group.Add(producer);
                    members.Add(producer);
                    grew = true;
                }
        }
        return group;
    }

    /// <summary>One fused node computing <paramref name="group"/> (in graph order; its last node is the result).</summary>
    private static GraphNode Fuse(List<GraphNode> group)
    {
        var byIdentity = ReferenceEqualityComparer.Instance;
        var operandOf = new Dictionary<GraphValue, int>(byIdentity);
        var inputs = new List<GraphValue>();
        foreach (var node in group)
            foreach (var input in node.Inputs)
                if (input.Producer is null || !group.Contains(input.Producer))
                    if (!operandOf.ContainsKey(input))
                    {
                        operandOf[input] = inputs.Count;
                        inputs.Add(input);
                    }
        var steps = new FusedStep[group.Count];
        for (int s = 0; s < group.Count; s++)
        {
            var node = group[s];
            var operands = new int[node.Inputs.Length];
            for (int k = 0; k < operands.Length; k++) operands[k] = operandOf[node.Inputs[k]];
            steps[s] = new FusedStep(node.Op, node.Attributes, new IntList(operands), node.Output.Spec);
            operandOf[node.Output] = inputs.Count + s;
        }
        var attributes = new FusedElementwiseAttributes(inputs.Count, steps);
        return new GraphNode(FusedElementwiseOp.Instance, attributes, inputs.ToArray(), group[^1].Output.Spec);
    }
}
