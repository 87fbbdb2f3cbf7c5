using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Rewrites that keep every bit of the result: x * 1, 1 * x and x / 1 become x; x - (+0) and
/// x + (-0) become x (x + (+0) does not: it turns -0 into +0, so it stays, as in IEEE-careful
/// compilers; for integers any zero goes); a permute of a permute becomes one permute, and an identity
/// permute, reshape or expand disappears; a reshape of a reshape of a dense value becomes one
/// reshape. Each rewrite needs the result's shape and dtype to equal what replaces it, so a
/// broadcasting constant (x * ones of a larger shape) is never dropped. Nodes left without users are
/// removed by <see cref="DeadCodeElimination"/>.
/// </summary>
internal sealed class AlgebraicSimplification : GraphPass
{
    internal override string Name => nameof(AlgebraicSimplification);

    internal override bool Run(Graph graph)
    {
        var replaced = NewReplacementMap();
        bool changed = false;
        for (int n = 0; n < graph.Nodes.Count; n++)
        {
            var node = graph.Nodes[n];
            for (int i = 0; i < node.Inputs.Length; i++) node.Inputs[i] = Resolve(replaced, node.Inputs[i]);
            if (Identity(node) is { } same)
            {
                replaced[node.Output] = same;
                continue;
            }
            if (Merged(node) is { } merged)
            {
                // The merged node takes the outer node's place; the inner one is left to dead code elimination.
                graph.Nodes[n] = merged;
                replaced[node.Output] = merged.Output;
                changed = true;
                if (Identity(merged) is { } mergedSame) replaced[merged.Output] = mergedSame;
            }
        }
        ApplyReplacements(graph, replaced);
        return changed || replaced.Count > 0;
    }

    /// <summary>The value the node's result equals bit for bit, or null.</summary>
    private static GraphValue? Identity(GraphNode node)
    {
        var op = node.Op;
        var inputs = node.Inputs;
        GraphValue? candidate = null;
        if (op == MulOp.Instance)
            candidate = IsAll(inputs[1], 1) ? inputs[0] : IsAll(inputs[0], 1) ? inputs[1] : null;
        else if (op == DivOp.Instance)
            candidate = IsAll(inputs[1], 1) ? inputs[0] : null;
        else if (op == AddOp.Instance)
            candidate = IsZero(inputs[1], negative: true) ? inputs[0] : IsZero(inputs[0], negative: true) ? inputs[1] : null;
        else if (op == SubOp.Instance)
            candidate = IsZero(inputs[1], negative: false) ? inputs[0] : null;
        else if (op == PermuteOp.Instance)
            candidate = IsIdentityPermutation(((PermuteOp.Attributes)node.Attributes).Dims) ? inputs[0] : null;
        else if (op == ReshapeOp.Instance || op == ExpandOp.Instance)
            candidate = inputs[0];
        return candidate is not null && candidate.Spec == node.Output.Spec ? candidate : null;
    }

    /// <summary>One view node for a view of a view (permute of permute, reshape of dense reshape), or null.</summary>
    private static GraphNode? Merged(GraphNode node)
    {
        if (node.Inputs.Length != 1 || node.Inputs[0].Producer is not { } inner || inner.Op != node.Op) return null;
        var source = inner.Inputs[0];
        if (node.Op == PermuteOp.Instance)
        {
            var first = ((PermuteOp.Attributes)inner.Attributes).Dims;
            var second = ((PermuteOp.Attributes)node.Attributes).Dims;
            var combined = new int[second.Count];
            for (int i = 0; i < combined.Length; i++) combined[i] = first[second[i]];
            return Graph.CreateNode(PermuteOp.Instance, new PermuteOp.Attributes(new IntList(combined)), [source]);
        }
        // A reshape of a reshape views the source directly only when the source is dense: a strided
        // source may be viewable in the intermediate shape and not in the final one.
        if (node.Op == ReshapeOp.Instance && source.Dense)
            return Graph.CreateNode(ReshapeOp.Instance, new ReshapeOp.Attributes(new IntList(node.Output.Spec.Shape.AsSpan())), [source]);
        return null;
    }

    private static bool IsIdentityPermutation(IntList dims)
    {
        for (int i = 0; i < dims.Count; i++)
            if (dims[i] != i) return false;
        return true;
    }

    private static bool IsAll(GraphValue value, double target)
    {
        if (value.Kind != ValueKind.Constant || value.Data is not { IsContiguous: true } t) return false;
        switch (t.DType)
        {
            case DType.Float32: foreach (var x in t.Span<float>()) if (x != target) return false; return true;
            case DType.Float64: foreach (var x in t.Span<double>()) if (x != target) return false; return true;
            case DType.Int32: foreach (var x in t.Span<int>()) if (x != target) return false; return true;
            case DType.Int64: foreach (var x in t.Span<long>()) if (x != target) return false; return true;
            default: return false;
        }
    }

    /// <summary>All zeros; for floating point, all of the given sign (the one that keeps x's bits).</summary>
    private static bool IsZero(GraphValue value, bool negative)
    {
        if (value.Kind != ValueKind.Constant || value.Data is not { IsContiguous: true } t) return false;
        switch (t.DType)
        {
            case DType.Float32:
                foreach (var x in t.Span<float>()) if (x != 0 || float.IsNegative(x) != negative) return false;
                return true;
            case DType.Float64:
                foreach (var x in t.Span<double>()) if (x != 0 || double.IsNegative(x) != negative) return false;
                return true;
            case DType.Int32:
            case DType.Int64:
                return IsAll(value, 0);
            default:
                return false;
        }
    }
}
