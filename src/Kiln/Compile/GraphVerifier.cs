using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Checks that a <see cref="Graph"/> is well formed: SSA (every value defined once, by the graph,
/// before its first use), no dangling values, outputs defined, and every node's result spec equal to
/// what its op's inference gives for its inputs. The compiler runs it after every pass, so a pass
/// that breaks the graph is named by the error.
/// </summary>
internal static class GraphVerifier
{
    /// <summary>Throws a <see cref="KilnException"/> naming the first problem, and <paramref name="stage"/> (the pass that just ran).</summary>
    internal static void Verify(Graph graph, string stage)
    {
        var problem = FindProblem(graph);
        if (problem is not null)
            throw new KilnException($"graph {graph.Name} is invalid after {stage}: {problem}\n{GraphPrinter.Print(graph)}");
    }

    /// <summary>The first problem found, or null for a valid graph.</summary>
    internal static string? FindProblem(Graph graph)
    {
        var names = GraphPrinter.NamesOf(graph);
        var defined = new HashSet<GraphValue>(ReferenceEqualityComparer.Instance);
        var producedLater = new HashSet<GraphValue>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Nodes) producedLater.Add(node.Output);

        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            var v = graph.Inputs[i];
            if (v.Kind != ValueKind.Input) return $"input {i} is a {v.Kind} value";
            if (!defined.Add(v)) return $"input {i} is listed twice";
        }
        foreach (var p in graph.Parameters)
        {
            if (p.Kind != ValueKind.Parameter || string.IsNullOrEmpty(p.Name)) return $"parameter {names[p]} is not a named parameter value";
            if (p.Data is null) return $"parameter {names[p]} has no tensor";
            if (!defined.Add(p)) return $"parameter {names[p]} is listed twice";
        }
        foreach (var c in graph.Constants)
        {
            if (c.Kind != ValueKind.Constant) return $"constant {names[c]} is a {c.Kind} value";
            if (c.Data is null || c.Data.IsDisposed) return $"constant {names[c]} has no data";
            if (TensorSpec.Of(c.Data) != c.Spec) return $"constant {names[c]} is declared {GraphPrinter.Spec(c.Spec)} but holds {GraphPrinter.Spec(TensorSpec.Of(c.Data))}";
            if (!defined.Add(c)) return $"constant {names[c]} is listed twice";
        }

        var specs = new List<TensorSpec>();
        foreach (var node in graph.Nodes)
        {
            var result = GraphPrinter.NameOf(names, node.Output);
            var where = $"node {result} ({node.Op.Name})";
            if (node.Attributes.GetType() != node.Op.AttributesType)
                return $"{where} has attributes {node.Attributes.GetType().Name}, expected {node.Op.AttributesType.Name}";
            specs.Clear();
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                var input = node.Inputs[i];
                if (!defined.Contains(input))
                    return producedLater.Contains(input)
                        ? $"{where} uses {GraphPrinter.NameOf(names, input)} (input {i}) before its definition"
                        : $"{where} uses a value the graph does not define (input {i}, {GraphPrinter.Spec(input.Spec)})";
                specs.Add(input.Spec);
            }
            if (node.Output.Kind != ValueKind.Node || !ReferenceEquals(node.Output.Producer, node))
                return $"{where} defines a value it does not produce";
            if (!defined.Add(node.Output)) return $"{where} defines {result} a second time";
            TensorSpec inferred;
            try
            {
                inferred = node.Op.InferUntyped(specs.ToArray(), node.Attributes);
            }
            catch (KilnShapeException e)
            {
                return $"{where} does not type-check: {e.Message}";
            }
            if (inferred != node.Output.Spec)
                return $"{where} is declared {GraphPrinter.Spec(node.Output.Spec)} but its op infers {GraphPrinter.Spec(inferred)}";
        }

        if (graph.Outputs.Count == 0) return "the graph has no outputs";
        for (int i = 0; i < graph.Outputs.Count; i++)
            if (!defined.Contains(graph.Outputs[i]))
                return $"output {i} ({GraphPrinter.Spec(graph.Outputs[i].Spec)}) is not defined by the graph";
        return null;
    }
}
