using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Makes a traced graph run at another batch size without tracing again (<see cref="CompileOptions.DynamicBatch"/>):
/// dimension 0 of every input becomes the new batch size and every node's spec is inferred again.
/// Values computed from an input follow the batch: where the trace wrote the batch size into an
/// attribute (a Reshape or Expand target, as Flatten makes) and the value reshaped leads with the
/// batch, the new batch size takes its place. A node whose new shape is neither its traced shape
/// nor its traced shape with the batch size changed is refused with an error naming it. A graph
/// traced at batch size 1 is not used (a leading 1 could be the batch or not; see
/// <see cref="CanRespecialize"/>).
/// </summary>
internal static class BatchRespecialization
{
    /// <summary>The batch size of a call: every input's dimension 0, which must agree.</summary>
    internal static int BatchOf(string function, ReadOnlySpan<Tensor> inputs)
    {
        int batch = -1;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].Rank == 0)
                throw new KilnShapeException($"{function}: compiled with a dynamic batch dimension, but input {i} is a scalar (every input needs dimension 0 as its batch)");
            int b = inputs[i].ShapeArray[0];
            if (batch >= 0 && b != batch)
                throw new KilnShapeException($"{function}: compiled with a dynamic batch dimension, but the inputs' dimension 0 differ ({batch} and {b} for input {i})");
            batch = b;
        }
        return batch;
    }

    /// <summary>Whether a trace at <paramref name="batch"/> can serve other batch sizes: not at 1, where a dimension of size 1 cannot be told from the batch.</summary>
    internal static bool CanRespecialize(int batch) => batch > 1;

    /// <summary>
    /// <paramref name="source"/> (traced at <paramref name="traced"/>) for inputs of batch size
    /// <paramref name="batch"/>: new values with re-inferred specs, constants sharing the source's memory
    /// as <see cref="Graph.Copy"/> does.
    /// </summary>
    internal static Graph Respecialize(Graph source, int traced, int batch)
    {
        bool resize = traced != batch;
        var graph = new Graph(source.Name);
        var map = new Dictionary<GraphValue, GraphValue>(ReferenceEqualityComparer.Instance);
        var follows = new HashSet<GraphValue>(ReferenceEqualityComparer.Instance);
        foreach (var input in source.Inputs)
        {
            var spec = resize ? WithBatch(input.Spec, batch) : input.Spec;
            var copy = graph.AddInput(spec, input.Dense);
            map[input] = copy;
            follows.Add(copy);
        }
        foreach (var p in source.Parameters) map[p] = graph.AddParameter(p.Name!, p.Data!);
        foreach (var c in source.Constants) map[c] = graph.AddSharedConstant(c);
        foreach (var node in source.Nodes)
        {
            var inputs = new GraphValue[node.Inputs.Length];
            bool dependent = false;
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = map[node.Inputs[i]];
                dependent |= follows.Contains(inputs[i]);
            }
            if (!resize || !dependent)
            {
                var same = graph.AddNode(node.Op, node.Attributes, inputs, node.Output.Spec);
                map[node.Output] = same.Output;
                continue;
            }
            var attributes = Retarget(node, traced, batch);
            var specs = new TensorSpec[inputs.Length];
            for (int i = 0; i < specs.Length; i++) specs[i] = inputs[i].Spec;
            TensorSpec inferred;
            try
            {
                inferred = node.Op.InferUntyped(specs, attributes);
            }
            catch (KilnShapeException e)
            {
                throw Refused(source, node, traced, batch, $"it does not accept the new shapes: {e.Message}");
            }
            var old = node.Output.Spec.Shape;
            if (inferred.Shape != old && !(old.Rank > 0 && old[0] == traced && inferred.Shape == WithBatch(node.Output.Spec, batch).Shape))
                throw Refused(source, node, traced, batch, $"it gives {inferred.Shape}, which is neither its traced shape {old} nor that shape with the batch size changed");
            var resized = graph.AddNode(node.Op, attributes, inputs, inferred);
            map[node.Output] = resized.Output;
            follows.Add(resized.Output);
        }
        foreach (var output in source.Outputs) graph.Outputs.Add(map[output]);
        return graph;
    }

    /// <summary>A Reshape or Expand of a batch-led value whose target leads with the traced batch size, retargeted to the new one.</summary>
    private static OpAttributes Retarget(GraphNode node, int traced, int batch)
    {
        var input = node.Inputs[0].Spec.Shape;
        bool batchLed = input.Rank > 0 && input[0] == traced;
        switch (node.Attributes)
        {
            case ReshapeOp.Attributes reshape when batchLed && reshape.Shape.Count > 0 && reshape.Shape[0] == traced:
                return new ReshapeOp.Attributes(Led(reshape.Shape, batch));
            case ExpandOp.Attributes expand when batchLed && expand.Shape.Count == input.Rank && expand.Shape[0] == traced:
                return new ExpandOp.Attributes(Led(expand.Shape, batch));
            default:
                return node.Attributes;
        }
    }

    private static IntList Led(IntList dims, int batch)
    {
        var copy = dims.ToArray();
        copy[0] = batch;
        return new IntList(copy);
    }

    private static TensorSpec WithBatch(TensorSpec spec, int batch)
    {
        if (spec.Shape.Rank == 0) return spec;
        var dims = spec.Shape.ToArray();
        dims[0] = batch;
        return new TensorSpec(Shape.Wrap(dims), spec.DType);
    }

    private static KilnException Refused(Graph graph, GraphNode node, int traced, int batch, string why)
        => new($"{graph.Name}: compiled with a dynamic batch dimension (traced at batch size {traced}), but at batch size {batch} " +
               $"its {node.Op.Name} node (traced {GraphPrinter.Spec(node.Output.Spec)}{Attributes(node)}) cannot follow the batch: {why}. " +
               "Compile without DynamicBatch, or write the code so shapes follow the input (Reshape(-1, ...), Flatten)");

    private static string Attributes(GraphNode node)
    {
        var text = GraphPrinter.Attributes(node.Attributes);
        return text.Length == 0 ? "" : " " + text;
    }
}
