using System.Globalization;
using System.Text;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// The text form of a <see cref="Graph"/>, stable so tests can compare it and readable for dumps:
/// <code>
/// graph Sequential(%in0: [64,784] f32)
///   param @0.weight: [256,784] f32
///   const %c0: [] f32 = 2
///   %0 = Linear(%in0, @0.weight, @0.bias) : [64,256] f32
///   %1 = Reshape(%0) { Shape = [-1] } : [16384] f32
///   return %1
/// </code>
/// Inputs are %in0.., parameters @name, constants %c0.., node results %0.. in node order (numbered
/// at printing, so the text does not depend on which passes ran before).
/// </summary>
internal static class GraphPrinter
{
    /// <summary>Constants with at most this many elements print their values.</summary>
    private const int PrintedConstantElements = 8;

    internal static string Print(Graph graph)
    {
        var names = NamesOf(graph);
        var text = new StringBuilder();
        text.Append("graph ").Append(graph.Name).Append('(');
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(names[graph.Inputs[i]]).Append(": ").Append(Spec(graph.Inputs[i].Spec));
        }
        text.Append(")\n");
        foreach (var p in graph.Parameters)
            text.Append("  param ").Append(names[p]).Append(": ").Append(Spec(p.Spec)).Append('\n');
        foreach (var c in graph.Constants)
        {
            text.Append("  const ").Append(names[c]).Append(": ").Append(Spec(c.Spec));
            if (c.Data is { IsDisposed: false, IsContiguous: true } data && data.NumElements <= PrintedConstantElements)
                text.Append(" = ").Append(Values(data));
            text.Append('\n');
        }
        foreach (var node in graph.Nodes)
        {
            text.Append("  ").Append(NameOf(names, node.Output)).Append(" = ").Append(node.Op.Name).Append('(');
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                if (i > 0) text.Append(", ");
                text.Append(NameOf(names, node.Inputs[i]));
            }
            text.Append(')');
            var attributes = Attributes(node.Attributes);
            if (attributes.Length > 0) text.Append(' ').Append(attributes);
            text.Append(" : ").Append(Spec(node.Output.Spec)).Append('\n');
        }
        text.Append("  return ");
        for (int i = 0; i < graph.Outputs.Count; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(NameOf(names, graph.Outputs[i]));
        }
        return text.Append('\n').ToString();
    }

    /// <summary>The printed name of every value the graph defines.</summary>
    internal static Dictionary<GraphValue, string> NamesOf(Graph graph)
    {
        var names = new Dictionary<GraphValue, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < graph.Inputs.Count; i++) names.TryAdd(graph.Inputs[i], $"%in{i}");
        foreach (var p in graph.Parameters) names.TryAdd(p, "@" + p.Name);
        for (int i = 0; i < graph.Constants.Count; i++) names.TryAdd(graph.Constants[i], $"%c{i}");
        for (int i = 0; i < graph.Nodes.Count; i++) names.TryAdd(graph.Nodes[i].Output, $"%{i}");
        return names;
    }

    /// <summary>A value's printed name, or a mark that it is not defined by the graph.</summary>
    internal static string NameOf(Dictionary<GraphValue, string> names, GraphValue value)
        => names.TryGetValue(value, out var name) ? name : $"%<undefined {Spec(value.Spec)}>";

    /// <summary>"[64,256] f32".</summary>
    internal static string Spec(TensorSpec spec)
    {
        var text = new StringBuilder("[");
        var dims = spec.Shape.AsSpan();
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) text.Append(',');
            text.Append(dims[i]);
        }
        return text.Append("] ").Append(ShortName(spec.DType)).ToString();
    }

    private static string ShortName(DType dtype) => dtype switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        DType.Bool => "bool",
        DType.UInt8 => "u8",
        DType.Int8 => "i8",
        _ => dtype.Name(),
    };

    /// <summary>The attribute record's members as the record prints them ("{ Dim = 1 }"), or "" for none.</summary>
    internal static string Attributes(OpAttributes attributes)
    {
        if (attributes is NoAttributes) return "";
        var text = attributes.ToString();
        int open = text.IndexOf('{');
        if (open < 0) return "";
        var members = text[open..];
        return members == "{ }" ? "" : members;
    }

    private static string Values(Tensor data)
    {
        var items = new string[data.NumElements];
        for (int i = 0; i < items.Length; i++) items[i] = Element(data, i);
        return data.Rank == 0 ? items[0] : "[" + string.Join(", ", items) + "]";
    }

    private static string Element(Tensor t, int i)
    {
        var c = CultureInfo.InvariantCulture;
        return t.DType switch
        {
            DType.Float32 => t.Span<float>()[i].ToString(c),
            DType.Float64 => t.Span<double>()[i].ToString(c),
            DType.Int32 => t.Span<int>()[i].ToString(c),
            DType.Int64 => t.Span<long>()[i].ToString(c),
            DType.Bool => t.Span<bool>()[i] ? "true" : "false",
            DType.UInt8 => t.Span<byte>()[i].ToString(c),
            DType.Int8 => t.Span<sbyte>()[i].ToString(c),
            _ => "?",
        };
    }
}
