using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.IO;

/// <summary>
/// A saved model's config.json: <see cref="Write"/> describes a model (and optionally its optimizer
/// and compile settings), <see cref="Read"/> checks a description and plans the model without
/// building it. The layout:
/// <code>
/// {
///   "format": "kiln.saved_model", "format_version": 1, "dtype": "float32",
///   "model": {"type": "Sequential", "children": [
///       {"name": "0", "type": "Linear", "in_features": 784, "out_features": 256, "bias": true},
///       {"name": "1", "type": "Relu"},
///       {"name": "2", "same_as": "1"}]},
///   "frozen": ["0.bias"],
///   "optimizer": {"type": "Adam", "defaults": {"lr": 0.001, ...}, "param_groups": [{"params": ["0.weight", "0.bias"]}]},
///   "compile": {"loss": "CrossEntropy", "metrics": ["accuracy"]}
/// }
/// </code>
/// A functional Model lists its layers as its children and adds its graph (<see cref="FunctionalGraphConfig"/>).
/// "same_as" marks a module object that appears a second time (by the path of its first place);
/// "frozen" lists the parameters that do not require grad. "compile" is written for a compiled
/// model: the loss when it is a built-in one (<see cref="LossNames"/>), and the metrics' names.
/// </summary>
internal static class SavedModelConfig
{
    public const string FormatName = "kiln.saved_model";
    public const int FormatVersion = 1;

    /// <summary>Deep enough for any real nesting of containers (each level of modules is two or three levels of JSON).</summary>
    public const int MaxJsonDepth = 192;

    /// <summary>
    /// The config.json bytes describing <paramref name="model"/>, after checking that the description
    /// plans exactly the state <paramref name="state"/> (the model's state dict) holds, so that what is
    /// saved will load. Throws <see cref="ArgumentException"/> naming the module for a model that
    /// the format cannot describe.
    /// </summary>
    public static byte[] Write(Module model, IReadOnlyDictionary<string, Tensor> state, Optimizer? optimizer, Trainer? trainer)
    {
        var dtype = ModelDType(state);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxJsonDepth }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("format_version", FormatVersion);
            w.WriteString("dtype", dtype == DType.Float64 ? "float64" : "float32");
            w.WritePropertyName("model");
            WriteModule(w, model, "", new HashSet<Module>(ReferenceEqualityComparer.Instance), new Dictionary<Module, string>(ReferenceEqualityComparer.Instance));
            w.WriteStartArray("frozen");
            foreach (var (name, parameter) in model.NamedParameters())
                if (!parameter.RequiresGrad) w.WriteStringValue(name);
            w.WriteEndArray();
            if (optimizer is not null) OptimizerConfig.Write(w, optimizer, model);
            if (trainer is not null)
            {
                w.WriteStartObject("compile");
                if (LossNames.NameOf(trainer.Loss) is { } loss) w.WriteString("loss", loss);
                w.WriteStartArray("metrics");
                foreach (var metric in trainer.Metrics) w.WriteStringValue(metric.Name);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var bytes = buffer.WrittenSpan.ToArray();
        CheckPlan(Read(bytes, "the model being saved"), state);
        return bytes;
    }

    private static DType ModelDType(IReadOnlyDictionary<string, Tensor> state)
    {
        DType? dtype = null;
        string? first = null;
        foreach (var (name, tensor) in state)
        {
            if (!tensor.DType.IsFloatingPoint()) continue;
            if (dtype is { } d && d != tensor.DType)
                throw new ArgumentException($"Save: the model mixes dtypes (\"{first}\" is {d.Name()}, \"{name}\" is {tensor.DType.Name()}); a saved model has one floating-point dtype, so convert it with model.To(...) first");
            dtype = tensor.DType;
            first ??= name;
        }
        return dtype ?? DType.Float32;
    }

    private static void WriteModule(Utf8JsonWriter w, Module module, string path, HashSet<Module> open, Dictionary<Module, string> written)
    {
        w.WriteStartObject();
        WriteModuleFields(w, module, path, open, written);
        w.WriteEndObject();
    }

    private static void WriteModuleFields(Utf8JsonWriter w, Module module, string path, HashSet<Module> open, Dictionary<Module, string> written)
    {
        if (written.TryGetValue(module, out var first))
        {
            w.WriteString("same_as", first);
            return;
        }
        var where = ModelPlan.Describe(path);
        if (!open.Add(module)) throw new ArgumentException($"Save: {where} contains itself; a saved model is a tree of modules");
        var type = LayerConfig.NameOf(module) ?? throw new ArgumentException(
            $"Save: {where} is a {module.GetType().FullName}, which is not one of Kiln's built-in layers, so a saved model cannot rebuild it " +
            "(loading a file never runs code from it). Save the weights with model.SaveWeights(path) and rebuild the model in code, or build it from built-in layers");
        if (!LayerConfig.IsContainer(type) && !module.IsBuilt)
            throw new ArgumentException($"Save: {where} ({type}) is a lazy layer that has not seen an input yet, so its sizes are unknown; call the model once, or model.Build(inputShape), before saving it");
        w.WriteString("type", type);
        LayerConfig.Write(w, module);

        var children = new List<(string Name, Module Module)>();
        foreach (var member in module.DirectMembers())
            if (member.Kind == Module.MemberKind.Module) children.Add((member.Name, member.Module!));
        if (LayerConfig.IsContainer(type))
        {
            int items = module switch { Sequential q => q.Count, ModuleList l => l.Count, Model m => m.Layers.Count, _ => ((ModuleDict)module).Count };
            if (children.Count != items)
                throw new ArgumentException($"Save: {where} ({type}) has {children.Count - items} child modules besides its items (added with RegisterModule or in fields of a subclass); a saved model cannot rebuild them");
            w.WriteStartArray("children");
            foreach (var (name, child) in children)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                WriteModuleFields(w, child, ModelPlan.Join(path, name), open, written);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (module is Model functional) FunctionalGraphConfig.Write(w, functional);
        }
        else if (children.Count > 0)
        {
            throw new ArgumentException($"Save: {where} ({type}) has the child module \"{children[0].Name}\" ({children[0].Module.GetType().Name}), which a {type} does not have; a saved model cannot rebuild it");
        }
        open.Remove(module);
        written[module] = path;
    }

    // The description must plan exactly the state the model has: a layer with extra registered
    // tensors, or a buffer changed by hand, would otherwise save a file that does not load.
    private static void CheckPlan(ModelPlan plan, IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var (name, tensor) in state)
        {
            if (!plan.State.TryGetValue(name, out var slot))
                throw new ArgumentException($"Save: the model has the tensor \"{name}\", which its layers' settings do not account for (was it added with RegisterParameter or RegisterBuffer?); a saved model cannot rebuild it. Save the weights with model.SaveWeights(path) instead");
            if (!slot.Shape.AsSpan().SequenceEqual(tensor.ShapeArray) || slot.Floating != tensor.DType.IsFloatingPoint() || !slot.Floating && tensor.DType != DType.Int64)
                throw new ArgumentException($"Save: the model's tensor \"{name}\" is {tensor.Shape} {tensor.DType.Name()}, but its layer's settings give {Shape.Format(slot.Shape)} {(slot.Floating ? "floating-point" : "int64")}; was it replaced by hand?");
        }
        foreach (var name in plan.State.Keys)
            if (!state.ContainsKey(name))
                throw new ArgumentException($"Save: the model lacks the tensor \"{name}\" that its layers' settings give it");
    }

    /// <summary>Checks <paramref name="json"/> (the bytes of config.json) and plans the model; <paramref name="source"/> begins every error message.</summary>
    public static ModelPlan Read(ReadOnlyMemory<byte> json, string source)
    {
        using var document = ConfigObject.Parse(json, $"{source}: config.json", MaxJsonDepth);
        var root = ConfigObject.Of(document.RootElement, $"{source}: config.json");
        root.CheckFormat(FormatName, FormatVersion);
        var dtype = root.String("dtype") switch
        {
            "float32" => DType.Float32,
            "float64" => DType.Float64,
            var other => throw root.Error("dtype", $"is {ConfigObject.Quote(other)}; expected \"float32\" or \"float64\""),
        };
        var nodes = new Dictionary<string, ModelPlan.Node>(StringComparer.Ordinal);
        var model = ReadModule(root.Object("model", $"{source}: config.json: model"), "", nodes, source);

        var plan = new ModelPlan(model, dtype, $"{source}: config.json");
        var planState = plan.State;
        var frozen = root.StringArray("frozen", planState.Count);
        var frozenSet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in frozen)
        {
            if (!planState.TryGetValue(name, out var slot) || !slot.IsParameter)
                throw root.Error("frozen", $"names {ConfigObject.Quote(name)}, which is not a parameter of the model");
            if (!frozenSet.Add(name)) throw root.Error("frozen", $"names {ConfigObject.Quote(name)} twice");
        }
        plan.Frozen = frozen;
        if (root.Has("optimizer")) plan.Optimizer = OptimizerConfig.Read(root.Object("optimizer", $"{source}: config.json: optimizer"), planState);
        if (root.Has("compile"))
        {
            var compile = root.Object("compile", $"{source}: config.json: compile");
            if (compile.Has("loss"))
            {
                var loss = compile.String("loss");
                plan.Loss = LossNames.Named(loss) is not null ? loss : throw compile.Error("loss", $"is {ConfigObject.Quote(loss)}; expected one of {LossNames.All}");
            }
            plan.Metrics = compile.StringArray("metrics", 1024);
            compile.Finish();
        }
        root.Finish();
        return plan;
    }

    private static ModelPlan.Node ReadModule(ConfigObject c, string path, Dictionary<string, ModelPlan.Node> nodes, string source)
    {
        ModelPlan.Node node;
        if (c.Has("same_as"))
        {
            var target = c.String("same_as");
            if (!nodes.TryGetValue(target, out var earlier))
                throw c.Error("same_as", $"is {ConfigObject.Quote(target)}, which names no module that comes before {ModelPlan.Describe(path)}");
            c.Finish();
            node = new ModelPlan.SharedNode(path, earlier);
        }
        else
        {
            var type = c.String("type");
            if (!LayerConfig.Types.ContainsKey(type))
                throw c.Error("type", $"is {ConfigObject.Quote(type)}, which is not a layer type Kiln can load; the known types are {string.Join(", ", LayerConfig.Types.Keys)}");
            c.Where += $" ({type})";
            node = LayerConfig.IsContainer(type) ? ReadContainer(c, type, path, nodes, source) : new ModelPlan.LayerNode(path, type, LayerConfig.Read(type, c));
            c.Finish();
        }
        nodes[path] = node;
        return node;
    }

    private static ModelPlan.ContainerNode ReadContainer(ConfigObject c, string type, string path, Dictionary<string, ModelPlan.Node> nodes, string source)
    {
        var items = c.Array("children", int.MaxValue);
        var children = new List<(string, ModelPlan.Node)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var child = ConfigObject.Of(item, $"{source}: config.json: {ModelPlan.Describe(path)} ({type}) child {i}");
            var name = child.String("name");
            if (name.Length == 0 || name.Contains('.')) throw child.Error("name", $"is {ConfigObject.Quote(name)}; a module name is non-empty and has no '.'");
            if (type == "ModuleList" && name != i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw child.Error("name", $"is {ConfigObject.Quote(name)}; the items of a ModuleList are named 0, 1, 2, ... in order");
            if (!names.Add(name)) throw child.Error("name", $"is {ConfigObject.Quote(name)}, which an earlier child already has");
            var childPath = ModelPlan.Join(path, name);
            child.Where = $"{source}: config.json: {ModelPlan.Describe(childPath)}";
            children.Add((name, ReadModule(child, childPath, nodes, source)));
            i++;
        }
        var graph = type == "Model" ? FunctionalGraphConfig.Read(c, children) : null;
        return new ModelPlan.ContainerNode(path, type, children, graph);
    }
}
