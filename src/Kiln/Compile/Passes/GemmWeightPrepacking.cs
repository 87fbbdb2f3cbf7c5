using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Packs each fixed float32 GEMM weight into the microkernel's panels once, at compile time: a
/// <see cref="LinearOp"/> node, or a <see cref="MatMulOp"/> node x·W (x not transposed, W a matrix),
/// whose weight is a <see cref="ValueKind.Constant"/> becomes a <see cref="PrepackedLinearOp"/> node
/// with the same inputs and the same result bits. Packing W costs as much as the whole product at
/// batch 1 (a 784×256 weight: ~80 µs of an 88 µs MLP forward). Parameters are read live at each call
/// and may change, so they are left alone: only constants (captured tensors that do not require grad,
/// and folded results) are packed. Runs after the portable passes, so it sees folded constants.
/// </summary>
internal sealed class GemmWeightPrepacking : GraphPass
{
    internal override string Name => nameof(GemmWeightPrepacking);

    internal override bool Run(Graph graph)
    {
        var replaced = NewReplacementMap();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (Prepacked(node) is not { } packed) continue;
            graph.Nodes[i] = packed;
            replaced[node.Output] = packed.Output;
        }
        ApplyReplacements(graph, replaced);
        return replaced.Count > 0;
    }

    /// <summary>The prepacked node standing for <paramref name="node"/>, or null when it does not qualify.</summary>
    private static GraphNode? Prepacked(GraphNode node)
    {
        bool transposeB;
        if (node.Op is LinearOp) transposeB = true;
        else if (node.Op is MatMulOp && node.Attributes is MatMulOp.Attributes { TransposeA: false } at) transposeB = at.TransposeB;
        else return null;
        var weight = node.Inputs[1];
        if (weight.Kind != ValueKind.Constant || weight.Data is null || weight.Spec.DType != DType.Float32 || weight.Spec.Shape.Rank != 2)
            return null;
        if (node.Inputs[0].Spec.Shape.Rank == 0 || node.Output.Spec.Shape.NumElements == 0) return null;
        var attributes = new PrepackedLinearOp.Attributes(transposeB, PrepackedLinearOp.Pack(weight.Data, transposeB));
        return new GraphNode(PrepackedLinearOp.Instance, attributes, (GraphValue[])node.Inputs.Clone(), node.Output.Spec);
    }
}
