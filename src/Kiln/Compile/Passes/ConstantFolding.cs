using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Computes, once at compile time, every node whose inputs are all constants, and replaces it by a
/// constant holding its result (a view's result is copied, so the constant owns its memory).
/// Parameters are not constants (they are read live at each call), so nothing that depends on
/// them is folded. A node whose result would be much larger than its inputs (an Expand of a scalar
/// to a big shape) is left alone: folding it would trade a cheap op for memory.
/// </summary>
internal sealed class ConstantFolding : GraphPass
{
    /// <summary>A folded result may hold this many elements whatever its inputs hold.</summary>
    private const long SmallResultElements = 4096;

    internal override string Name => nameof(ConstantFolding);

    internal override bool Run(Graph graph)
    {
        var replaced = NewReplacementMap();
        var kept = new List<GraphNode>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            for (int i = 0; i < node.Inputs.Length; i++) node.Inputs[i] = Resolve(replaced, node.Inputs[i]);
            if (!Foldable(node))
            {
                kept.Add(node);
                continue;
            }
            replaced[node.Output] = graph.AddConstant(Evaluate(node));
        }
        bool changed = replaced.Count > 0;
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        ApplyReplacements(graph, replaced);
        return changed;
    }

    private static bool Foldable(GraphNode node)
    {
        if (node.Op.IsRandom) return false;
        long inputElements = 0;
        foreach (var input in node.Inputs)
        {
            if (input.Kind != ValueKind.Constant) return false;
            inputElements += input.Spec.Shape.NumElements;
        }
        return node.Output.Spec.Shape.NumElements <= Math.Max(SmallResultElements, inputElements);
    }

    /// <summary>The node's result on its constants' values, in a new contiguous tensor outside every scope.</summary>
    private static Tensor Evaluate(GraphNode node)
    {
        var inputs = new Tensor[node.Inputs.Length];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = node.Inputs[i].Data!;
        var spec = node.Output.Spec;
        var result = Tensor.Empty(spec.Shape.AsSpan(), spec.DType).DetachFromScope();
        if (node.Op.IsView)
        {
            using var view = node.Op.ViewUntyped(inputs, node.Attributes);
            Dispatcher.CopyInto(view, result);
        }
        else
        {
            node.Op.ForwardUntyped(inputs, node.Attributes, result);
        }
        return result;
    }
}
