using System.Globalization;
using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// A functional model (Keras's <c>keras.Model(inputs, outputs)</c>): a graph of layer calls from
/// one or more inputs to one or more outputs, wired with <see cref="Functional"/>'s <c>Call</c> on
/// <see cref="SymbolicTensor"/>s.
/// <code>
/// var image = Model.Input(1, 28, 28);
/// var meta = Model.Input(4);
/// var h = new Flatten().Call(new Relu().Call(new Conv2d(8, 3).Call(image)));
/// var joined = new Concatenate().Call(h, meta);
/// var model = new Model([image, meta], [new Linear(10).Call(joined), new Linear(1).Call(joined)]);
/// </code>
/// It is a <see cref="Module"/> like any other: its children are its layers, named by type as Keras
/// names them ("linear", "linear_1", "concatenate", ... in the order they are first called) or by
/// the name given at the call, so the state dict reads <c>linear.weight</c>, <c>linear_1.bias</c>.
/// A module called at several places is one child whose weights every call shares (and whose
/// gradients add up). <see cref="Forward(IReadOnlyList{Tensor})"/> runs it on real tensors;
/// <see cref="Forward(Tensor)"/> and <see cref="Module.Call"/> serve a model with one input and one
/// output; Fit, Evaluate and Predict take a list of inputs for the others.
/// </summary>
public sealed class Model : Module, IMultiInputModel
{
    [ExcludeFromState] private readonly ModelNode[] _nodes;
    [ExcludeFromState] private readonly int[] _outputNodes;
    [ExcludeFromState] private readonly List<(string Name, Module Layer)> _layers = new();
    [ExcludeFromState] private readonly SymbolicTensor[] _inputs;
    [ExcludeFromState] private readonly SymbolicTensor[] _outputs;

    /// <summary>A model from one input to one output.</summary>
    public Model(SymbolicTensor input, SymbolicTensor output, string name = "model")
        : this([input], [output], name)
    {
    }

    /// <summary>
    /// A model from <paramref name="inputs"/> (each made by <see cref="Input(int[])"/>) to
    /// <paramref name="outputs"/> (each computed from those inputs), in the order its calls take and
    /// return them. Throws when an output depends on an input not in the list.
    /// </summary>
    public Model(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, string name = "model")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (inputs.Count == 0) throw new ArgumentException("Model: a model needs at least one input", nameof(inputs));
        if (outputs.Count == 0) throw new ArgumentException("Model: a model needs at least one output", nameof(outputs));
        Name = name;
        _inputs = [.. inputs];
        _outputs = [.. outputs];
        (_nodes, _outputNodes) = ModelGraph.Build(_inputs, _outputs);
        foreach (var node in _nodes)
            if (node is { Layer: { } layer, Call: 0 }) _layers.Add((node.Name, layer));
    }

    /// <summary>An input of one sample's <paramref name="shape"/> (without the batch dimension), float32: <c>Model.Input(784)</c>, <c>Model.Input(1, 28, 28)</c>.</summary>
    public static SymbolicTensor Input(params int[] shape) => Input(shape, DType.Float32);

    /// <summary>An input of one sample's <paramref name="shape"/> and <paramref name="dtype"/> (int64 for token ids), named <paramref name="name"/> in summaries (by default "input", "input_1", ...).</summary>
    public static SymbolicTensor Input(int[] shape, DType dtype, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d <= 0) throw new ArgumentException($"Model.Input: every dimension must be positive (the batch dimension is left out), got {Kiln.Shape.Format(shape)}", nameof(shape));
        if (name is not null) CheckMemberName(name, nameof(name));
        return SymbolicTensor.NewInput([.. shape], dtype, name);
    }

    /// <summary>The model's name (Keras's <c>model.name</c>), printed by its summary.</summary>
    public string Name { get; }

    /// <summary>The symbolic inputs, in the order <see cref="Forward(IReadOnlyList{Tensor})"/> takes real ones.</summary>
    public IReadOnlyList<SymbolicTensor> Inputs => _inputs;

    /// <summary>The symbolic outputs, in the order <see cref="Forward(IReadOnlyList{Tensor})"/> returns real ones.</summary>
    public IReadOnlyList<SymbolicTensor> Outputs => _outputs;

    /// <summary>The number of input tensors a call takes.</summary>
    public int InputCount => _inputs.Length;

    /// <summary>The number of output tensors a call returns.</summary>
    public int OutputCount => _outputs.Length;

    /// <summary>The layers, each once, in the order they are first called (Keras's <c>model.layers</c>, without the inputs).</summary>
    public IReadOnlyList<Module> Layers => _layers.ConvertAll(l => l.Layer);

    /// <summary>The layer named <paramref name="name"/> (Keras's <c>model.get_layer</c>).</summary>
    public Module GetLayer(string name)
    {
        foreach (var (n, layer) in _layers)
            if (n == name) return layer;
        throw new KeyNotFoundException($"Model \"{Name}\" has no layer named \"{name}\"; it has: {string.Join(", ", _layers.Select(l => l.Name))}");
    }

    /// <summary>The graph, in running order: the inputs, then one node per layer call (for writers of the architecture and for the summary).</summary>
    internal IReadOnlyList<ModelNode> Nodes => _nodes;

    /// <summary>The indices of the nodes that are the model's outputs, in output order.</summary>
    internal IReadOnlyList<int> OutputNodes => _outputNodes;

    /// <summary>
    /// Runs the model on <paramref name="inputs"/>, one real tensor per <see cref="Inputs"/> entry
    /// with any batch size and the declared sample shape, and returns one tensor per output.
    /// </summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != _inputs.Length)
            throw new ArgumentException($"{Location}: the model takes {Count(_inputs.Length, "input")}, got {inputs.Count}", nameof(inputs));
        var values = new Tensor[_nodes.Length];
        for (int i = 0; i < _inputs.Length; i++)
        {
            var x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"{Location}: input {i} is null");
            if (!FitsSample(x, _nodes[i].Shape))
                throw InputError($"input {i} (\"{_nodes[i].Name}\") has shape {x.Shape}, expected {SymbolicTensor.FormatShape(_nodes[i].Shape)}");
            values[i] = x;
        }
        for (int i = _inputs.Length; i < _nodes.Length; i++)
        {
            var node = _nodes[i];
            var args = new Tensor[node.Inputs.Length];
            for (int a = 0; a < args.Length; a++) args[a] = values[node.Inputs[a]];
            values[i] = RunLayer(node.Layer!, args);
        }
        var outputs = new Tensor[_outputNodes.Length];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = values[_outputNodes[i]];
        return outputs;
    }

    /// <summary>Runs a model of one input and one output; a model with more throws, naming the list form.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_inputs.Length != 1 || _outputs.Length != 1)
            throw new KilnException($"{Location}: the model takes {Count(_inputs.Length, "input")} and returns {Count(_outputs.Length, "output")}; call Forward([x1, x2, ...]) with a list");
        return Forward([input])[0];
    }

    /// <summary>Runs one layer call: a merge on all its inputs, a nested model with several inputs through its list form, any other module through <see cref="Module.Call"/>.</summary>
    internal static Tensor RunLayer(Module layer, IReadOnlyList<Tensor> inputs)
    {
        switch (layer)
        {
            case Merge merge:
                return merge.Call(inputs);
            case Model { InputCount: > 1 } model:
                return model.Forward(inputs)[0];
            default:
                if (inputs.Count != 1)
                    throw new ArgumentException($"{layer.Description} takes one input, got {inputs.Count}; combine several with a merge layer (Add, Multiply, Concatenate)");
                return layer.Call(inputs[0]);
        }
    }

    private static bool FitsSample(Tensor x, int[] shape)
    {
        if (x.Rank != shape.Length) return false;
        for (int d = 1; d < shape.Length; d++)
            if (x.ShapeArray[d] != shape[d]) return false;
        return true;
    }

    private static string Count(int n, string noun) => n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");

    private protected override void AddItems(List<Member> members)
    {
        foreach (var (name, layer) in _layers) members.Add(new Member(name, MemberKind.Module, null, layer));
    }
}
