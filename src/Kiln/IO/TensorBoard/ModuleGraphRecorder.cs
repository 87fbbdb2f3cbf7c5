using System.Text;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// Records one forward pass of a module tree as a TensorFlow GraphDef for TensorBoard's Graphs tab,
/// through forward hooks: one node per call of a leaf module (a module without children), named
/// by its module path under <c>model</c> with slashes, so TensorBoard nests containers as
/// collapsible groups (<c>model/features/0</c>); its op is the module type (<c>Conv2d</c>,
/// <c>ReLU</c>), its attributes the module's settings as printed (<c>module</c>), its parameter
/// count (<c>parameters</c>) and its output shape (<c>_output_shapes</c>, which TensorBoard shows on
/// the edges). A module called twice gives two nodes (<c>model/fc</c>, <c>model/fc_1</c>). An
/// <c>input</c> node (Placeholder) stands for the model's input and an <c>output</c> node
/// (Identity) for its result.
/// <para>
/// Edges follow tensors: a leaf's input is wired to the node whose output is that very tensor
/// object, or to <c>input</c>. A tensor made by code in a container's own Forward (a reshape, a
/// residual addition, a concatenation) was produced by no recorded node; such an input is wired to
/// the node called just before (call order), so the chain stays connected, but the operation itself
/// does not appear. Only the first forward pass after <see cref="Attach"/> is recorded.
/// </para>
/// </summary>
internal sealed class ModuleGraphRecorder : IDisposable
{
    private const int GraphProducerVersion = 22;
    private const string InputName = "input";
    private const string OutputName = "output";

    private readonly Dictionary<Module, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _producers = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> _callCounts = new(StringComparer.Ordinal);
    private readonly List<Node> _nodes = [];
    private readonly List<IDisposable> _hooks = [];
    private Tensor? _input;
    private int[]? _inputShape;
    private DType _inputDType;
    private int[]? _outputShape;
    private string? _outputProducer;
    private bool _inputUsed;
    private bool _rootStarted;

    private sealed record Node(string Name, string Op, List<string> Inputs, int[] OutputShape, string Settings, long Parameters);

    private ModuleGraphRecorder() { }

    /// <summary>True once the root module's call has returned (the pass is recorded).</summary>
    public bool Completed { get; private set; }

    /// <summary>True when at least one leaf call was recorded.</summary>
    public bool HasNodes => _nodes.Count > 0;

    /// <summary>Installs the hooks on <paramref name="root"/> and every leaf below it; dispose the recorder to remove them.</summary>
    public static ModuleGraphRecorder Attach(Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var recorder = new ModuleGraphRecorder();
        recorder._hooks.Add(root.RegisterForwardPreHook((Module _, Tensor x) => recorder.OnRootStart(x)));
        foreach (var (name, module) in root.NamedModules())
        {
            recorder._paths[module] = NodeName(name);
            if (!module.Children().Any())
                recorder._hooks.Add(module.RegisterForwardHook((Module m, Tensor x, Tensor y) => recorder.OnLeaf(m, x, y)));
        }
        recorder._hooks.Add(root.RegisterForwardHook((Module _, Tensor _, Tensor y) => recorder.OnRootEnd(y)));
        return recorder;
    }

    /// <summary>Removes every hook; what was recorded stays.</summary>
    public void Dispose()
    {
        foreach (var hook in _hooks) hook.Dispose();
        _hooks.Clear();
    }

    private void OnRootStart(Tensor input)
    {
        if (_rootStarted) return;
        _rootStarted = true;
        _input = input;
        _inputShape = input.Shape.ToArray();
        _inputDType = input.DType;
    }

    private void OnLeaf(Module module, Tensor input, Tensor output)
    {
        if (Completed) return;
        string path = _paths.GetValueOrDefault(module) ?? "model/" + Sanitize(module.GetType().Name);
        int calls = _callCounts.GetValueOrDefault(path);
        _callCounts[path] = calls + 1;
        string name = calls == 0 ? path : $"{path}_{calls}";
        var node = new Node(name, OpName(module), [SourceOf(input)], output.Shape.ToArray(), Settings(module), module.ParameterCount);
        _nodes.Add(node);
        _producers[output] = name;
    }

    private void OnRootEnd(Tensor output)
    {
        if (Completed) return;
        Completed = true;
        _outputShape = output.Shape.ToArray();
        _outputProducer = _producers.GetValueOrDefault(output) ?? (_nodes.Count > 0 ? _nodes[^1].Name : UseInput());
        Dispose();
    }

    private string SourceOf(Tensor input)
    {
        if (_producers.TryGetValue(input, out var producer)) return producer;
        if (ReferenceEquals(input, _input) || _nodes.Count == 0) return UseInput();
        return _nodes[^1].Name;
    }

    private string UseInput()
    {
        _inputUsed = true;
        return InputName;
    }

    /// <summary>The recorded pass as a serialized GraphDef.</summary>
    public byte[] ToGraphDef()
    {
        var graph = new ProtoWriter(256 * (_nodes.Count + 2));
        if (_inputUsed || _inputShape is not null)
        {
            var input = new ProtoWriter();
            input.WriteString(1, InputName);
            input.WriteString(2, "Placeholder");
            if (_inputShape is not null)
            {
                WriteAttr(input, "_output_shapes", ShapeListAttr(_inputShape));
                var dtype = new ProtoWriter();
                dtype.WriteInt64(6, DataTypeOf(_inputDType));
                WriteAttr(input, "dtype", dtype);
            }
            graph.WriteMessage(1, input);
        }
        foreach (var node in _nodes)
        {
            var n = new ProtoWriter();
            n.WriteString(1, node.Name);
            n.WriteString(2, node.Op);
            foreach (var source in node.Inputs) n.WriteString(3, source);
            // Map entries are written in key order, as protobuf serializers do.
            WriteAttr(n, "_output_shapes", ShapeListAttr(node.OutputShape));
            if (node.Settings.Length > 0) WriteAttr(n, "module", StringAttr(node.Settings));
            WriteAttr(n, "parameters", IntAttr(node.Parameters));
            graph.WriteMessage(1, n);
        }
        if (_outputProducer is not null)
        {
            var output = new ProtoWriter();
            output.WriteString(1, OutputName);
            output.WriteString(2, "Identity");
            output.WriteString(3, _outputProducer);
            WriteAttr(output, "_output_shapes", ShapeListAttr(_outputShape!));
            graph.WriteMessage(1, output);
        }
        var versions = new ProtoWriter();
        versions.WriteInt64(1, GraphProducerVersion);
        graph.WriteMessage(4, versions);
        return graph.ToArray();
    }

    private static void WriteAttr(ProtoWriter node, string key, ProtoWriter value)
    {
        var entry = new ProtoWriter(value.Length + key.Length + 8);
        entry.WriteString(1, key);
        entry.WriteMessage(2, value);
        node.WriteMessage(5, entry);
    }

    private static ProtoWriter ShapeListAttr(int[] shape)
    {
        var tensorShape = new ProtoWriter();
        foreach (int size in shape)
        {
            var dim = new ProtoWriter();
            if (size != 0) dim.WriteInt64(1, size);
            tensorShape.WriteMessage(2, dim);
        }
        var list = new ProtoWriter();
        list.WriteMessage(7, tensorShape);
        var attr = new ProtoWriter();
        attr.WriteMessage(1, list);
        return attr;
    }

    private static ProtoWriter StringAttr(string value)
    {
        var attr = new ProtoWriter();
        attr.WriteString(2, value);
        return attr;
    }

    private static ProtoWriter IntAttr(long value)
    {
        var attr = new ProtoWriter();
        attr.WriteInt64(3, value);
        return attr;
    }

    // DataType values from TensorFlow's types.proto.
    private static int DataTypeOf(DType dtype) => dtype switch
    {
        DType.Float32 => 1,
        DType.Float64 => 2,
        DType.Int32 => 3,
        DType.UInt8 => 4,
        DType.Int8 => 6,
        DType.Int64 => 9,
        DType.Bool => 10,
        _ => 0,
    };

    // A leaf prints as "Type(settings)" (PyTorch's repr): the op is the type, the attribute the whole line.
    private static string OpName(Module module)
    {
        var text = module.ToString();
        int paren = text.IndexOf('(');
        return Sanitize(paren > 0 ? text[..paren] : module.GetType().Name);
    }

    private static string Settings(Module module) => module.ToString();

    /// <summary>The node name of the module at dotted path <paramref name="path"/> ("" for the root).</summary>
    internal static string NodeName(string path)
        => path.Length == 0 ? "model" : "model/" + Sanitize(path.Replace('.', '/'));

    // NodeDef names match [A-Za-z0-9.][A-Za-z0-9_>./]*; module names from dictionaries may hold anything else.
    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '>' or '.' or '/' ? c : '_');
        return sb.ToString();
    }
}
