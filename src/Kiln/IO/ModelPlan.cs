using Kiln.Models;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// A saved model's config.json, read and checked but not built: the module tree, the state each
/// module will have (so the weights are checked against it before anything is allocated from the
/// file's sizes), and the optional optimizer and compile settings.
/// </summary>
internal sealed class ModelPlan
{
    /// <summary>A module of the tree: a layer, a container, or a second place for a module already planned.</summary>
    internal abstract record Node(string Path);

    /// <summary>A registry layer (of registry type <paramref name="Type"/>) with its settings.</summary>
    internal sealed record LayerNode(string Path, string Type, LayerPlan Layer) : Node(Path);

    /// <summary>A Sequential, ModuleList, ModuleDict or functional Model with its named children in order (a Model's also with its <paramref name="Graph"/>).</summary>
    internal sealed record ContainerNode(string Path, string Type, IReadOnlyList<(string Name, Node Child)> Children, FunctionalGraph? Graph = null) : Node(Path);

    /// <summary>An input of a functional Model: its name, the shape of one sample and its dtype.</summary>
    internal sealed record GraphInput(string Name, int[] SampleShape, DType DType);

    /// <summary>A layer call of a functional Model: the child called, the earlier nodes it is called on (the inputs are nodes 0, 1, ..., the calls follow), and its output's shape ([-1, ...]) and dtype.</summary>
    internal sealed record GraphCall(string Layer, int[] Inputs, int[] Shape, DType DType);

    /// <summary>The graph of a functional Model: its name, inputs, layer calls in order, and the nodes it returns.</summary>
    internal sealed record FunctionalGraph(string Name, IReadOnlyList<GraphInput> Inputs, IReadOnlyList<GraphCall> Calls, int[] Outputs);

    /// <summary>The same module object as <paramref name="Target"/>, which appears earlier in the tree.</summary>
    internal sealed record SharedNode(string Path, Node Target) : Node(Path);

    /// <summary>Plans the tree under <paramref name="root"/>; <paramref name="where"/> begins error messages (a state too large for a tensor).</summary>
    public ModelPlan(Node root, DType dtype, string where)
    {
        Root = root;
        DType = dtype;
        _where = where;
        Collect(root, "");
    }

    private readonly string _where;

    public Node Root { get; }

    /// <summary>The dtype of every floating-point parameter and buffer.</summary>
    public DType DType { get; }

    /// <summary>The parameters that do not require grad, by state dict name.</summary>
    public IReadOnlyList<string> Frozen { get; set; } = [];

    public OptimizerPlan? Optimizer { get; set; }

    /// <summary>The built-in loss the model was compiled with (a name <see cref="LossNames"/> knows), or null.</summary>
    public string? Loss { get; set; }

    /// <summary>The names of the metrics the model was compiled with (informational: metrics are objects a file cannot rebuild).</summary>
    public IReadOnlyList<string> Metrics { get; set; } = [];

    /// <summary>The state dict the built model will have, by dotted name (a shared module's state under each of its names, as <see cref="Module.StateDict"/> lists it).</summary>
    public OrderedDictionary<string, StateSlot> State { get; } = new(StringComparer.Ordinal);

    /// <summary>The elements building the model allocates (each shared module once).</summary>
    public long Elements { get; private set; }

    /// <summary>Builds the modules (initialized as new layers are; the caller loads the weights).</summary>
    public Module Build()
    {
        var built = new Dictionary<Node, Module>(ReferenceEqualityComparer.Instance);
        var model = Build(Root, built);
        if (DType != DType.Float32) model.To(DType);
        return model;
    }

    private static Module Build(Node node, Dictionary<Node, Module> built)
    {
        Module module;
        switch (node)
        {
            case SharedNode shared:
                module = built[shared.Target];
                break;
            case LayerNode layer:
                module = layer.Layer.Build();
                break;
            case ContainerNode { Type: "Sequential" } c:
                var items = new List<(string, Module)>();
                foreach (var (name, child) in c.Children) items.Add((name, Build(child, built)));
                module = new Sequential(items);
                break;
            case ContainerNode { Type: "ModuleList" } c:
                var list = new ModuleList();
                foreach (var (_, child) in c.Children) list.Add(Build(child, built));
                module = list;
                break;
            case ContainerNode { Type: "ModuleDict" } c:
                var dict = new ModuleDict();
                foreach (var (name, child) in c.Children) dict.Add(name, Build(child, built));
                module = dict;
                break;
            case ContainerNode c:
                var layers = new Dictionary<string, Module>(StringComparer.Ordinal);
                foreach (var (name, child) in c.Children) layers[name] = Build(child, built);
                module = BuildFunctional(c.Graph!, layers);
                break;
            default:
                throw new InvalidOperationException($"unknown plan node {node.GetType().Name}");
        }
        built[node] = module;
        return module;
    }

    // The model's graph is put together from its saved shapes, as Model.Input and layer calls would
    // have made it, without running a layer: loading computes nothing.
    private static Model BuildFunctional(FunctionalGraph graph, Dictionary<string, Module> layers)
    {
        var symbols = new SymbolicTensor[graph.Inputs.Count + graph.Calls.Count];
        for (int i = 0; i < graph.Inputs.Count; i++)
            symbols[i] = SymbolicTensor.NewInput(graph.Inputs[i].SampleShape, graph.Inputs[i].DType, graph.Inputs[i].Name);
        for (int k = 0; k < graph.Calls.Count; k++)
        {
            var call = graph.Calls[k];
            var inputs = new SymbolicTensor[call.Inputs.Length];
            for (int a = 0; a < inputs.Length; a++) inputs[a] = symbols[call.Inputs[a]];
            symbols[graph.Inputs.Count + k] = SymbolicTensor.NewOutput(layers[call.Layer], inputs, call.Shape, call.DType, call.Layer);
        }
        var outputs = new SymbolicTensor[graph.Outputs.Length];
        for (int o = 0; o < outputs.Length; o++) outputs[o] = symbols[graph.Outputs[o]];
        return new Model(symbols[..graph.Inputs.Count], outputs, graph.Name);
    }

    private void Collect(Node node, string prefix)
    {
        switch (node)
        {
            case SharedNode shared:
                CollectShared(shared.Target, prefix);
                break;
            case LayerNode layer:
                foreach (var slot in layer.Layer.State)
                {
                    State[Join(prefix, slot.Name)] = slot;
                    long n = 1;
                    // Exact while capped: each dimension is at most int.MaxValue.
                    foreach (var d in slot.Shape) n = Math.Min(n * d, (long)int.MaxValue + 1);
                    if (n > int.MaxValue)
                        throw new KilnFormatException($"{_where}: {Describe(prefix)}: \"{slot.Name}\" would have shape {Shape.Format(slot.Shape)}, more than the {int.MaxValue} elements a tensor holds");
                    Elements += n;
                }
                break;
            case ContainerNode container:
                foreach (var (name, child) in container.Children) Collect(child, Join(prefix, name));
                break;
        }
    }

    // A shared module's state appears again under its second name; it allocates nothing more.
    private void CollectShared(Node target, string prefix)
    {
        switch (target)
        {
            case SharedNode shared:
                CollectShared(shared.Target, prefix);
                break;
            case LayerNode layer:
                foreach (var slot in layer.Layer.State) State[Join(prefix, slot.Name)] = slot;
                break;
            case ContainerNode container:
                foreach (var (name, child) in container.Children) CollectShared(child, Join(prefix, name));
                break;
        }
    }

    internal static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>A module's path as error messages show it: <c>model</c> for the root, <c>model.features.0</c> below.</summary>
    internal static string Describe(string path) => path.Length == 0 ? "model" : "model." + path;
}
