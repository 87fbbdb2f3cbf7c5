using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// Turns a functional model's symbolic inputs and outputs into its list of <see cref="ModelNode"/>s:
/// the inputs, then every layer call the outputs depend on in the order the calls were wired (which
/// runs each after the calls it takes), with Keras's names.
/// </summary>
internal static class ModelGraph
{
    /// <summary>The nodes, and the index of each output's node.</summary>
    internal static (ModelNode[] Nodes, int[] Outputs) Build(SymbolicTensor[] inputs, SymbolicTensor[] outputs)
    {
        var inputSet = new HashSet<SymbolicTensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++)
        {
            var input = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"Model: inputs[{i}] is null");
            if (!input.IsInput)
                throw new ArgumentException($"Model: inputs[{i}] is the output of {input.Layer!.Description}, not a model input; make inputs with Model.Input(...)", nameof(inputs));
            if (!inputSet.Add(input)) throw new ArgumentException($"Model: inputs[{i}] is listed twice", nameof(inputs));
        }
        var calls = CallsReached(inputSet, outputs);
        calls.Sort((a, b) => a.Order.CompareTo(b.Order));
        var (inputNames, layerNames) = Names(inputs, calls);

        var nodes = new List<ModelNode>(inputs.Length + calls.Count);
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++)
        {
            index[inputs[i]] = nodes.Count;
            nodes.Add(new ModelNode(inputNames[i], null, [], i, inputs[i].ShapeArray, inputs[i].DType));
        }
        var callsSoFar = new Dictionary<Module, int>(ReferenceEqualityComparer.Instance);
        foreach (var call in calls)
        {
            var layer = call.Layer!;
            callsSoFar.TryGetValue(layer, out int count);
            callsSoFar[layer] = count + 1;
            var args = new int[call.Inputs.Length];
            for (int a = 0; a < args.Length; a++) args[a] = index[call.Inputs[a]];
            index[call] = nodes.Count;
            nodes.Add(new ModelNode(layerNames[layer], layer, args, count, call.ShapeArray, call.DType));
        }
        var outputNodes = new int[outputs.Length];
        for (int i = 0; i < outputs.Length; i++) outputNodes[i] = index[outputs[i]];
        return ([.. nodes], outputNodes);
    }

    // Every layer call some output depends on; an output that depends on an input missing from the
    // list cannot be computed from the model's inputs.
    private static List<SymbolicTensor> CallsReached(HashSet<SymbolicTensor> inputs, SymbolicTensor[] outputs)
    {
        var reached = new HashSet<SymbolicTensor>(ReferenceEqualityComparer.Instance);
        var calls = new List<SymbolicTensor>();
        var pending = new Stack<SymbolicTensor>();
        for (int i = 0; i < outputs.Length; i++)
        {
            pending.Push(outputs[i] ?? throw new ArgumentNullException(nameof(outputs), $"Model: outputs[{i}] is null"));
            while (pending.TryPop(out var t))
            {
                if (!reached.Add(t)) continue;
                if (t.IsInput)
                {
                    if (!inputs.Contains(t))
                        throw new KilnException($"Model: outputs[{i}] depends on an input {t} that is not among the model's inputs; add it to the inputs list");
                    continue;
                }
                calls.Add(t);
                foreach (var source in t.Inputs) pending.Push(source);
            }
        }
        return calls;
    }

    // Keras's names: the given ones, then "input", "input_1", ... for the inputs and the snake_case
    // type name ("linear", "linear_1", "batch_norm2d", ...) for the layers in the order of their first call.
    private static (string[] Inputs, Dictionary<Module, string> Layers) Names(SymbolicTensor[] inputs, List<SymbolicTensor> calls)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var layers = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var call in calls)
        {
            if (call.Name is not { } name) continue;
            if (layers.TryGetValue(call.Layer!, out var existing))
            {
                if (existing != name)
                    throw new ArgumentException($"Model: one {call.Layer!.Description} layer is named both \"{existing}\" and \"{name}\"; give a shared layer one name");
                continue;
            }
            if (!taken.Add(name)) throw new ArgumentException($"Model: two layers are named \"{name}\"");
            layers[call.Layer!] = name;
        }
        foreach (var input in inputs)
            if (input.Name is { } name && !taken.Add(name))
                throw new ArgumentException($"Model: the name \"{name}\" is given to an input and to another input or layer");
        var inputNames = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) inputNames[i] = inputs[i].Name ?? Unique("input", taken);
        foreach (var call in calls)
            if (!layers.ContainsKey(call.Layer!)) layers[call.Layer!] = Unique(Module.SnakeCase(TypeNameOf(call.Layer!)), taken);
        return (inputNames, layers);
    }

    private static string TypeNameOf(Module layer)
    {
        var name = layer.GetType().Name;
        int tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }

    private static string Unique(string stem, HashSet<string> taken)
    {
        if (taken.Add(stem)) return stem;
        for (int k = 1; ; k++)
        {
            var name = $"{stem}_{k}";
            if (taken.Add(name)) return name;
        }
    }
}
