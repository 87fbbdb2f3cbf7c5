using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Folds per-channel scales and shifts that follow a Conv2d or Linear node into its weight and bias,
/// computed once at compile time: y = s·(conv(x, W) + b) + t becomes conv(x, W·s) + (b·s + t). In
/// evaluation mode batch normalization is such a chain ((x − mean)·rsqrt(var + eps)·weight + bias,
/// which constant folding reduces to Sub, Mul, Mul, Add by per-channel constants), so a Conv2d or
/// Linear followed by BatchNorm becomes one Conv2d or Linear. The chain's operands must be constants:
/// the pass only changes graphs compiled with frozen parameters (<see cref="CompileOptions.FreezeParameters"/>),
/// since live weights may change after compiling. Each link must be read only by the next one; the
/// folded values are computed in float64 and rounded once.
/// </summary>
internal sealed class BatchNormFoldingPass : GraphPass
{
    internal override string Name => nameof(BatchNormFoldingPass);

    internal override bool Run(Graph graph)
    {
        bool changed = false;
        var uses = graph.UseCounts();
        var consumer = new Dictionary<GraphValue, GraphNode>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs) consumer[input] = node;
        var removed = new HashSet<GraphNode>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var producer = graph.Nodes[i];
            if (removed.Contains(producer) || ChannelAxis(producer) is not int axis) continue;
            var spec = producer.Output.Spec;
            int channels = spec.Shape[axis];
            var scale = new double[channels];
            var shift = new double[channels];
            Array.Fill(scale, 1.0);
            var chain = new List<GraphNode>();
            var value = producer.Output;
            while (uses.GetValueOrDefault(value) == 1 && consumer.TryGetValue(value, out var next)
                   && Link(next, value, spec, axis, scale, shift))
            {
                chain.Add(next);
                value = next.Output;
            }
            if (chain.Count == 0) continue;
            var folded = Fold(graph, producer, scale, shift);
            graph.Nodes[i] = folded;
            foreach (var link in chain) removed.Add(link);
            graph.ReplaceAllUses(value, folded.Output);
            changed = true;
        }
        graph.Nodes.RemoveAll(removed.Contains);
        return changed;
    }

    /// <summary>The channel axis of a Conv2d or Linear node whose weight and bias are constants; null for any other node.</summary>
    private static int? ChannelAxis(GraphNode node)
    {
        if (node.Op is not (Conv2dOp or LinearOp)) return null;
        for (int k = 1; k < node.Inputs.Length; k++)
            if (node.Inputs[k].Kind != ValueKind.Constant) return null;
        if (!node.Output.Spec.DType.IsFloatingPoint()) return null;
        return node.Op is Conv2dOp ? 1 : node.Output.Spec.Shape.Rank - 1;
    }

    /// <summary>
    /// Whether <paramref name="node"/> is value ± c, c + value, value·c, c·value or value / c with c a
    /// per-channel (or single) constant and a result of the same spec; if so, folds it into
    /// <paramref name="scale"/> and <paramref name="shift"/>.
    /// </summary>
    private static bool Link(GraphNode node, GraphValue value, TensorSpec spec, int axis, double[] scale, double[] shift)
    {
        if (node.Op is not (AddOp or SubOp or MulOp or DivOp) || node.Output.Spec != spec) return false;
        bool first = ReferenceEquals(node.Inputs[0], value);
        var other = node.Inputs[first ? 1 : 0];
        if (ReferenceEquals(other, value) || other.Kind != ValueKind.Constant || other.Spec.DType != spec.DType) return false;
        if (PerChannel(other.Data!, spec.Shape.Rank, axis, scale.Length) is not { } c) return false;
        switch (node.Op)
        {
            case AddOp:
                for (int o = 0; o < c.Length; o++) shift[o] += c[o];
                return true;
            case SubOp when first:
                for (int o = 0; o < c.Length; o++) shift[o] -= c[o];
                return true;
            case SubOp:
                for (int o = 0; o < c.Length; o++) (scale[o], shift[o]) = (-scale[o], c[o] - shift[o]);
                return true;
            case MulOp:
                for (int o = 0; o < c.Length; o++) (scale[o], shift[o]) = (scale[o] * c[o], shift[o] * c[o]);
                return true;
            case DivOp when first:
                for (int o = 0; o < c.Length; o++) (scale[o], shift[o]) = (scale[o] / c[o], shift[o] / c[o]);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The constant's value for each channel, when it is one value or varies along the channel axis only; null otherwise.</summary>
    private static double[]? PerChannel(Tensor constant, int rank, int axis, int channels)
    {
        var dims = constant.ShapeArray;
        if (dims.Length > rank) return null;
        int lead = rank - dims.Length;
        bool alongChannels = false;
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] == 1) continue;
            if (d + lead != axis || dims[d] != channels) return null;
            alongChannels = true;
        }
        var values = constant.To(DType.Float64).ToArray<double>();
        var c = new double[channels];
        for (int o = 0; o < channels; o++) c[o] = values[alongChannels ? o : 0];
        return c;
    }

    /// <summary>The producer with its weight's output channels scaled and its bias scaled and shifted, as new constants.</summary>
    private static GraphNode Fold(Graph graph, GraphNode producer, double[] scale, double[] shift)
    {
        var weight = producer.Inputs[1].Data!;
        var dtype = weight.DType;
        var w = weight.To(DType.Float64).ToArray<double>();
        int channels = scale.Length;
        int per = w.Length / Math.Max(channels, 1);
        for (int o = 0; o < channels; o++)
            for (int k = 0; k < per; k++) w[o * per + k] *= scale[o];
        var b = producer.Inputs.Length > 2 ? producer.Inputs[2].Data!.To(DType.Float64).ToArray<double>() : new double[channels];
        for (int o = 0; o < channels; o++) b[o] = b[o] * scale[o] + shift[o];
        var foldedWeight = graph.AddConstant(Owned(w, weight.ShapeArray, dtype), producer.Inputs[1].Name);
        var foldedBias = graph.AddConstant(Owned(b, [channels], dtype), producer.Inputs.Length > 2 ? producer.Inputs[2].Name : null);
        return Graph.CreateNode(producer.Op, producer.Attributes, [producer.Inputs[0], foldedWeight, foldedBias]);
    }

    private static Tensor Owned(double[] values, int[] shape, DType dtype)
    {
        var wide = Tensor.From<double>(values, shape).DetachFromScope();
        if (dtype == DType.Float64) return wide;
        using (wide) return wide.To(dtype).DetachFromScope();
    }
}
