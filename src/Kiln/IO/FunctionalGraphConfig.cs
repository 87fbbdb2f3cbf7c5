using System.Text.Json;
using Kiln.Models;

namespace Kiln.IO;

/// <summary>
/// The graph of a functional <see cref="Model"/> in config.json, beside its "children" (the layers,
/// by name, in the order of their first call):
/// <code>
/// "model_name": "model",
/// "inputs": [{"name": "input", "shape": [784], "dtype": "float32"}],
/// "calls": [{"layer": "linear", "inputs": [0], "shape": [-1, 10], "dtype": "float32"}, ...],
/// "outputs": [3]
/// </code>
/// Nodes are numbered as the model numbers them: the inputs first, then the calls in order; a call
/// names the nodes it is called on, each before it. The shapes are those the model worked out when it
/// was built, so loading puts the graph together without running a layer.
/// </summary>
internal static class FunctionalGraphConfig
{
    // More than any real model has; it bounds the work a hostile file can ask for.
    private const int MaxNodes = 1 << 20;
    private const int MaxRank = 64;

    /// <summary>Writes the graph fields of <paramref name="model"/>.</summary>
    public static void Write(Utf8JsonWriter w, Model model)
    {
        w.WriteString("model_name", model.Name);
        w.WriteStartArray("inputs");
        var nodes = model.Nodes;
        int inputCount = model.InputCount;
        for (int i = 0; i < inputCount; i++)
        {
            w.WriteStartObject();
            w.WriteString("name", nodes[i].Name);
            WriteInts(w, "shape", nodes[i].Shape.AsSpan(1));
            w.WriteString("dtype", nodes[i].DType.Name());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("calls");
        for (int i = inputCount; i < nodes.Count; i++)
        {
            w.WriteStartObject();
            w.WriteString("layer", nodes[i].Name);
            WriteInts(w, "inputs", nodes[i].Inputs);
            WriteInts(w, "shape", nodes[i].Shape);
            w.WriteString("dtype", nodes[i].DType.Name());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteInts(w, "outputs", [.. model.OutputNodes]);
    }

    private static void WriteInts(Utf8JsonWriter w, string name, ReadOnlySpan<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>Reads and checks the graph of the Model <paramref name="c"/>, whose <paramref name="children"/> are already read.</summary>
    public static ModelPlan.FunctionalGraph Read(ConfigObject c, IReadOnlyList<(string Name, ModelPlan.Node Child)> children)
    {
        var modelName = c.String("model_name");
        if (string.IsNullOrWhiteSpace(modelName)) throw c.Error("model_name", "is empty");

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in children) names.Add(name);
        var inputs = new List<ModelPlan.GraphInput>();
        int i = 0;
        foreach (var item in c.Array("inputs", MaxNodes).EnumerateArray())
        {
            var input = ConfigObject.Of(item, $"{c.Where}: input {i++}");
            var name = input.String("name");
            if (name.Length == 0 || name.Contains('.')) throw input.Error("name", $"is {ConfigObject.Quote(name)}; a name is non-empty and has no '.'");
            if (!names.Add(name)) throw input.Error("name", $"is {ConfigObject.Quote(name)}, which another input or a layer already has");
            var shape = input.IntArray("shape", 1, int.MaxValue, MaxRank);
            inputs.Add(new ModelPlan.GraphInput(name, shape, ReadDType(input)));
            input.Finish();
        }
        if (inputs.Count == 0) throw c.Error("inputs", "is empty; a model has at least one input");

        var layers = new Dictionary<string, ModelPlan.Node>(StringComparer.Ordinal);
        foreach (var (name, child) in children) layers[name] = child;
        var firstCalls = new List<string>();
        var calls = new List<ModelPlan.GraphCall>();
        foreach (var item in c.Array("calls", MaxNodes).EnumerateArray())
        {
            int node = inputs.Count + calls.Count;
            var call = ConfigObject.Of(item, $"{c.Where}: call {calls.Count} (node {node})");
            var layer = call.String("layer");
            if (!layers.TryGetValue(layer, out var child)) throw call.Error("layer", $"is {ConfigObject.Quote(layer)}, which is not one of the model's children");
            if (!firstCalls.Contains(layer)) firstCalls.Add(layer);
            var args = call.IntArray("inputs", 0, node - 1, MaxNodes);
            if (Arity(child) is { } arity ? args.Length != arity : args.Length == 0)
                throw call.Error("inputs", $"lists {args.Length} nodes, but layer {ConfigObject.Quote(layer)} takes {(Arity(child) is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "one or more")}");
            var shape = call.IntArray("shape", -1, int.MaxValue, MaxRank);
            if (shape.Length == 0 || shape[0] != -1) throw call.Error("shape", "must start with -1, the batch dimension");
            for (int d = 1; d < shape.Length; d++)
                if (shape[d] < 0) throw call.Error("shape", $"has {shape[d]} at dimension {d}; only the batch dimension is -1");
            calls.Add(new ModelPlan.GraphCall(layer, args, shape, ReadDType(call)));
            call.Finish();
        }
        if (!firstCalls.SequenceEqual(children.Select(ch => ch.Name)))
            throw c.Error("calls", "do not call the children, each at least once, in the order \"children\" lists them (the order of their first call)");

        var outputs = c.IntArray("outputs", 0, inputs.Count + calls.Count - 1, MaxNodes);
        if (outputs.Length == 0) throw c.Error("outputs", "is empty; a model has at least one output");
        CheckReached(c, inputs.Count, calls, outputs);
        return new ModelPlan.FunctionalGraph(modelName, inputs, calls, outputs);
    }

    // How many inputs a call of the child takes: one for a layer, the model's inputs for a functional
    // model, null (one or more) for a merge layer.
    private static int? Arity(ModelPlan.Node child) => child switch
    {
        ModelPlan.SharedNode shared => Arity(shared.Target),
        ModelPlan.ContainerNode { Graph: { } graph } => graph.Inputs.Count,
        ModelPlan.LayerNode layer when LayerConfig.IsMerge(layer.Type) => null,
        _ => 1,
    };

    // The model keeps only the calls its outputs depend on; a call that none depends on would vanish
    // on loading, so the file must not have one.
    private static void CheckReached(ConfigObject c, int inputCount, List<ModelPlan.GraphCall> calls, int[] outputs)
    {
        var reached = new bool[inputCount + calls.Count];
        var pending = new Stack<int>(outputs);
        while (pending.TryPop(out int node))
        {
            if (reached[node]) continue;
            reached[node] = true;
            if (node >= inputCount)
                foreach (var source in calls[node - inputCount].Inputs) pending.Push(source);
        }
        for (int k = 0; k < calls.Count; k++)
            if (!reached[inputCount + k]) throw c.Error("calls", $"call {k} (of {ConfigObject.Quote(calls[k].Layer)}) leads to no output");
    }

    private static DType ReadDType(ConfigObject c) => c.String("dtype") switch
    {
        "float32" => DType.Float32,
        "float64" => DType.Float64,
        "int32" => DType.Int32,
        "int64" => DType.Int64,
        "bool" => DType.Bool,
        "uint8" => DType.UInt8,
        "int8" => DType.Int8,
        var other => throw c.Error("dtype", $"is {ConfigObject.Quote(other)}; expected float32, float64, int32, int64, bool, uint8 or int8"),
    };
}
