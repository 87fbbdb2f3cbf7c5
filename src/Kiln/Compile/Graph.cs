using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// The compiler's one graph type: positional inputs, named parameters (read live at each call),
/// constants (owned copies), nodes in execution order, and outputs. Values are SSA: each is defined
/// once and used only after its definition (the <see cref="GraphVerifier"/> checks this and every
/// node's shape and dtype against its op's inference).
/// </summary>
internal sealed class Graph
{
    internal Graph(string name) => Name = name;

    /// <summary>What the graph computes ("Sequential", "function"): a label for the printer and dump files.</summary>
    internal string Name { get; }

    internal List<GraphValue> Inputs { get; } = new();
    internal List<GraphValue> Parameters { get; } = new();
    internal List<GraphValue> Constants { get; } = new();
    internal List<GraphNode> Nodes { get; } = new();
    internal List<GraphValue> Outputs { get; } = new();

    internal GraphValue AddInput(TensorSpec spec, bool dense)
    {
        var value = new GraphValue(ValueKind.Input, spec) { Dense = dense };
        Inputs.Add(value);
        return value;
    }

    /// <summary>A parameter named <paramref name="name"/>, read from <paramref name="tensor"/> at each call.</summary>
    internal GraphValue AddParameter(string name, Tensor tensor)
    {
        var value = new GraphValue(ValueKind.Parameter, TensorSpec.Of(tensor), name, tensor) { Dense = IsRowMajor(tensor) };
        Parameters.Add(value);
        return value;
    }

    /// <summary>A constant holding <paramref name="owned"/> (a contiguous tensor the graph now owns and disposes).</summary>
    internal GraphValue AddConstant(Tensor owned, string? name = null)
    {
        var value = new GraphValue(ValueKind.Constant, TensorSpec.Of(owned), name, owned) { Dense = true };
        Constants.Add(value);
        return value;
    }

    /// <summary>Appends a node whose result has <paramref name="spec"/>.</summary>
    internal GraphNode AddNode(OpDef op, OpAttributes attributes, GraphValue[] inputs, TensorSpec spec)
    {
        var node = new GraphNode(op, attributes, inputs, spec);
        Nodes.Add(node);
        return node;
    }

    /// <summary>A node for <paramref name="op"/> whose result spec is inferred from its inputs (not yet placed in <see cref="Nodes"/>).</summary>
    internal static GraphNode CreateNode(OpDef op, OpAttributes attributes, GraphValue[] inputs)
    {
        var specs = new TensorSpec[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) specs[i] = inputs[i].Spec;
        return new GraphNode(op, attributes, inputs, op.InferUntyped(specs, attributes));
    }

    /// <summary>Makes every node input and graph output that reads <paramref name="old"/> read <paramref name="replacement"/>.</summary>
    internal void ReplaceAllUses(GraphValue old, GraphValue replacement)
    {
        foreach (var node in Nodes)
            for (int i = 0; i < node.Inputs.Length; i++)
                if (ReferenceEquals(node.Inputs[i], old)) node.Inputs[i] = replacement;
        for (int i = 0; i < Outputs.Count; i++)
            if (ReferenceEquals(Outputs[i], old)) Outputs[i] = replacement;
    }

    /// <summary>How many node inputs and graph outputs read each value.</summary>
    internal Dictionary<GraphValue, int> UseCounts()
    {
        var counts = new Dictionary<GraphValue, int>(ReferenceEqualityComparer.Instance);
        foreach (var node in Nodes)
            foreach (var input in node.Inputs) counts[input] = counts.GetValueOrDefault(input) + 1;
        foreach (var output in Outputs) counts[output] = counts.GetValueOrDefault(output) + 1;
        return counts;
    }

    /// <summary>
    /// A copy that passes can rewrite without touching this graph: new values and nodes, the same
    /// parameter tensors, and constants that share this graph's memory through tensors of their own
    /// (each graph releases its own when disposed; constants are never written).
    /// </summary>
    internal Graph Copy()
    {
        var copy = new Graph(Name);
        var map = new Dictionary<GraphValue, GraphValue>(ReferenceEqualityComparer.Instance);
        foreach (var v in Inputs) copy.Inputs.Add(map[v] = new GraphValue(ValueKind.Input, v.Spec) { Dense = v.Dense });
        foreach (var p in Parameters) copy.Parameters.Add(map[p] = new GraphValue(ValueKind.Parameter, p.Spec, p.Name, p.Data) { Dense = p.Dense });
        foreach (var c in Constants) map[c] = copy.AddSharedConstant(c);
        foreach (var node in Nodes)
        {
            var inputs = new GraphValue[node.Inputs.Length];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = map[node.Inputs[i]];
            map[node.Output] = copy.AddNode(node.Op, node.Attributes, inputs, node.Output.Spec).Output;
        }
        foreach (var o in Outputs) copy.Outputs.Add(map[o]);
        return copy;
    }

    /// <summary>
    /// Adds a constant that shares <paramref name="constant"/>'s memory (of another graph) through a
    /// tensor of its own, so each graph releases its own (constants are never written).
    /// </summary>
    internal GraphValue AddSharedConstant(GraphValue constant)
    {
        var value = new GraphValue(ValueKind.Constant, constant.Spec, constant.Name, constant.Data!.Detach().DetachFromScope()) { Dense = true };
        Constants.Add(value);
        return value;
    }

    /// <summary>Releases the constants' memory (the compiled function that owned the graph is done with it).</summary>
    internal void DisposeConstants()
    {
        foreach (var c in Constants) c.Data?.Dispose();
    }

    /// <summary>Strides exactly those of a dense row-major tensor of its shape.</summary>
    internal static bool IsRowMajor(Tensor t) => Shape.IsContiguousStrides(t.ShapeArray, t.StridesArray);

    /// <summary>The graph as text (see <see cref="GraphPrinter"/>).</summary>
    public override string ToString() => GraphPrinter.Print(this);
}
