using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Rewrites float32 <see cref="Conv2dOp"/> nodes into <see cref="FusedConv2dOp"/> nodes where that saves
/// work: a weight that is a <see cref="ValueKind.Constant"/> (frozen parameters, folded batch norms) is
/// transformed for the Winograd kernel, or packed into the implicit-GEMM kernel's panels, once, instead of on every call (a tenth of the CNN's
/// second convolution at batch 1, on one thread); and a <see cref="ReluOp"/> that is the only reader of
/// the convolution's result is applied as the output tiles are stored, instead of in a pass of its own.
/// Parameters are read live and may change, so they are not packed. Results keep their bits. A lowering
/// pass: it runs after batch-norm folding (so it sees folded weights) and before elementwise fusion
/// (which would otherwise take the ReLU); its nodes are never saved.
/// </summary>
internal sealed class Conv2dFusionPass : GraphPass
{
    internal override string Name => nameof(Conv2dFusionPass);

    internal override bool Run(Graph graph)
    {
        var uses = graph.UseCounts();
        var consumer = new Dictionary<GraphValue, GraphNode>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs) consumer[input] = node;
        var removed = new HashSet<GraphNode>(ReferenceEqualityComparer.Instance);
        var replaced = NewReplacementMap();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (node.Op is not Conv2dOp || node.Attributes is not Conv2dAttributes conv || node.Output.Spec.DType != DType.Float32) continue;
            var relu = uses.GetValueOrDefault(node.Output) == 1 && consumer.TryGetValue(node.Output, out var next) && next.Op is ReluOp ? next : null;
            var packed = Packed(node, conv);
            if (relu is null && packed is null) continue;
            var fused = new GraphNode(FusedConv2dOp.Instance, new FusedConv2dOp.Attributes(conv, relu is not null, packed),
                (GraphValue[])node.Inputs.Clone(), node.Output.Spec);
            graph.Nodes[i] = fused;
            if (relu is null)
            {
                replaced[node.Output] = fused.Output;
                continue;
            }
            removed.Add(relu);
            replaced[relu.Output] = fused.Output;
        }
        graph.Nodes.RemoveAll(removed.Contains);
        ApplyReplacements(graph, replaced);
        return replaced.Count > 0;
    }

    /// <summary>The packed weight of <paramref name="node"/>, or null when the weight is not a constant or the kernel that takes panels does not run this shape.</summary>
    private static PackedConvWeights? Packed(GraphNode node, Conv2dAttributes conv)
    {
        var weight = node.Inputs[1];
        if (weight.Kind != ValueKind.Constant || weight.Data is null || weight.Spec.Shape.Rank != 4 || node.Inputs[0].Spec.Shape.Rank != 4) return null;
        var (x, w, y) = (node.Inputs[0].Spec.Shape, weight.Spec.Shape, node.Output.Spec.Shape);
        var g = conv.Geometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3]);
        // Shapes Winograd runs (5x5, stride 1, 16+ channels) get its transformed weights, which make it pay at any batch size.
        if (WinogradConvKernel.SupportsShape(g)) return FusedConv2dOp.Pack(weight.Data, conv, winograd: true);
        return ConvKernel.ForwardTakesImplicitGemm(g) ? FusedConv2dOp.Pack(weight.Data, conv) : null;
    }
}
