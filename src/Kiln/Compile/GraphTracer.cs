using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Captures a graph while the traced code runs eagerly on the real inputs: every op the dispatcher
/// runs on this thread becomes a node, and tensors map to values by identity. A tensor that enters
/// without being an input or a node result becomes a parameter (a module's parameter or buffer by
/// its name, or a captured tensor that requires grad: read live at each call) or a constant (any
/// other tensor: copied now, so its value is frozen). What the graph could not represent (a value
/// read into C#, a random draw, a write into an input) is refused with an error naming it.
/// </summary>
internal sealed class GraphTracer : ITraceRecorder
{
    private readonly Graph _graph;
    private readonly Dictionary<Tensor, GraphValue> _values = new(ReferenceEqualityComparer.Instance);
    // A module's parameters and buffers by identity, with their names; listed again when an unknown
    // tensor turns up, since a lazy layer creates its parameters during its first (traced) call.
    private readonly Func<IReadOnlyDictionary<Tensor, string>>? _listState;
    private IReadOnlyDictionary<Tensor, string> _stateNames;
    // Tensors whose values are traced (inputs, parameters, node results), by their memory, to catch
    // tensors made from them without an op (Detach, or a raw view).
    private readonly Dictionary<Storage, List<Tensor>> _tracedMemory = new(ReferenceEqualityComparer.Instance);
    // Values that other values alias (a view was taken, or a tensor aliases them): an in-place change
    // of one could not be expressed as a new value without changing what the aliases see.
    private readonly HashSet<GraphValue> _aliased = new(ReferenceEqualityComparer.Instance);
    // Values that depend on an input or a parameter; the rest (constants and what is computed from
    // them alone) are the same at every call, so reading them into C# freezes nothing.
    private readonly HashSet<GraphValue> _varying = new(ReferenceEqualityComparer.Instance);
    private KilnException? _refusal;
    private int _capturedParameters;

    /// <param name="name">The graph's label.</param>
    /// <param name="listState">Lists a module's parameters and buffers by identity, with their names; null for a plain function.</param>
    internal GraphTracer(string name, Func<IReadOnlyDictionary<Tensor, string>>? listState)
    {
        _graph = new Graph(name);
        _listState = listState;
        _stateNames = listState?.Invoke() ?? new Dictionary<Tensor, string>();
    }

    internal Graph Graph => _graph;

    /// <summary>
    /// Lets in-place writes into a module's buffers (tensors of the module state that do not require
    /// grad: BatchNorm's running statistics) be recorded, as a training step must: the write becomes a
    /// node whose result later reads see, and the buffer joins <see cref="WrittenState"/> so the step
    /// can copy its final value back after each replay. Off for inference, where such writes are refused.
    /// </summary>
    internal bool AllowStateWrites { get; init; }

    /// <summary>
    /// Lets Rand and Randn (Dropout's mask) be recorded as random nodes that draw again from the global
    /// stream at every replay, as a training step needs; other draws (RandInt, Uniform, Normal) are still
    /// refused. Off for inference, where a draw is refused.
    /// </summary>
    internal bool AllowRandomDraws { get; init; }

    /// <summary>The module buffers written in place during the trace, in the order first written (see <see cref="AllowStateWrites"/>).</summary>
    internal List<Tensor> WrittenState { get; } = new();

    /// <summary>
    /// Runs <paramref name="function"/> on <paramref name="inputs"/> with gradients off while recording
    /// its ops; returns the tracer (its graph, not yet optimized) and the function's eager results.
    /// </summary>
    internal static (GraphTracer Tracer, Tensor[] Results) Capture(string name, Func<Tensor[], Tensor[]> function,
        Tensor[] inputs, Func<IReadOnlyDictionary<Tensor, string>>? listState)
    {
        var tracer = new GraphTracer(name, listState);
        foreach (var input in inputs) tracer.AddInput(input);
        Tensor[] results;
        var outer = TraceRecorder.Current;
        using (new GradModeScope(enabled: false))
        {
            TraceRecorder.Current = tracer;
            try
            {
                results = function(inputs) ?? throw new KilnException($"{name}: the traced function returned null");
            }
            finally
            {
                TraceRecorder.Current = outer;
            }
        }
        tracer.Finish(results);
        return (tracer, results);
    }

    /// <summary>Declares the next positional input.</summary>
    internal void AddInput(Tensor input)
    {
        var value = _graph.AddInput(TensorSpec.Of(input), Graph.IsRowMajor(input));
        _values.Add(input, value);
        _varying.Add(value);
        Remember(input);
    }

    /// <summary>Declares the traced code's results as the graph's outputs; throws the first refusal the code may have caught.</summary>
    internal void Finish(ReadOnlySpan<Tensor> outputs)
    {
        if (_refusal is not null) throw _refusal;
        foreach (var output in outputs)
        {
            if (output is null) throw new KilnException($"{_graph.Name}: the traced function returned null instead of a tensor");
            _graph.Outputs.Add(ValueOf(output));
        }
        if (_refusal is not null) throw _refusal;
    }

    /// <summary>The value a result of the traced code maps to (after <see cref="Finish"/>).</summary>
    internal GraphValue? Lookup(Tensor t) => _values.GetValueOrDefault(t);

    public void RecordCall(OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs, Tensor output)
    {
        var values = ValuesOf(inputs);
        var node = _graph.AddNode(op, attributes, values, TensorSpec.Of(output));
        if (op.IsView)
        {
            _aliased.Add(values[0]);
            _aliased.Add(node.Output);
        }
        _values[output] = node.Output;
        if (AnyVarying(values))
        {
            _varying.Add(node.Output);
            Remember(output);
        }
    }

    public void RecordInPlace(OpDef op, OpAttributes attributes, Tensor target, ReadOnlySpan<Tensor> inputs)
    {
        bool state = IsWritableState(target);
        if (state) ValueOf(target);
        if (!_values.TryGetValue(target, out var old) || (old.Kind != ValueKind.Node && !(old.Kind == ValueKind.Parameter && state)))
            throw Refuse($"{op.Name} writes in place into {Describe(target, old)} while tracing; a compiled graph does not change " +
                "its inputs, parameters, buffers or captured tensors (BatchNorm in training mode updates its running statistics " +
                "this way: compile the module in Eval mode). Compute a new tensor instead (x = x + y rather than x.AddInPlace(y))");
        if (old.IsView || _aliased.Contains(old))
            throw Refuse($"{op.Name} writes in place into a tensor ({GraphPrinter.Spec(old.Spec)}) that shares memory with a view " +
                "while tracing; the graph cannot express the change the view would see. Compute a new tensor instead");
        var values = ValuesOf(inputs);
        var node = _graph.AddNode(op, attributes, values, old.Spec);
        _values[target] = node.Output;
        if (state && !WrittenState.Contains(target)) WrittenState.Add(target);
        if (AnyVarying(values))
        {
            _varying.Add(node.Output);
            if (!_varying.Contains(old)) Remember(target);
        }
    }

    public void ReadingValues(Tensor tensor, string what)
    {
        if (IsTraced(tensor, out _))
            throw Refuse($"{what} reads a value during tracing; the compiled graph would freeze it — a value read into C# " +
                "(to branch on it, or to build another tensor from it) is not part of the graph, so every later call would " +
                "reuse this call's value. Keep the computation in tensor ops (Where, Max, ...), or call the function eagerly");
    }

    public void WritingUntracked(Tensor tensor, string what)
    {
        if (IsTraced(tensor, out _) || _values.ContainsKey(tensor))
            throw Refuse($"{what} writes into a tensor used by the trace ({GraphPrinter.Spec(TensorSpec.Of(tensor))}); the " +
                "compiled graph would not see the write. Build the tensor with ops instead (Where, Cat)");
    }

    public void DrawingRandom(string what)
    {
        // Rand and Randn record their draw as a node (RecordRandom) when the trace allows draws.
        if (AllowRandomDraws && what is "Rand" or "Randn") return;
        throw Refuse($"{what} draws from the random stream during tracing; the compiled graph would replay this call's " +
            "numbers at every call (compiled functions do not draw; compiled training steps draw Rand and Randn afresh at each step). " +
            "Dropout in training mode does this: compile the " +
            "module in Eval mode for inference, or call it eagerly");
    }

    public void RecordRandom(OpDef op, OpAttributes attributes, Tensor result)
    {
        var node = _graph.AddNode(op, attributes, [], TensorSpec.Of(result));
        _values[result] = node.Output;
        _varying.Add(node.Output);
        Remember(result);
    }

    /// <summary>A module buffer a training step may write in place: named module state that does not require grad, seen whole (not a view).</summary>
    private bool IsWritableState(Tensor t)
    {
        if (!AllowStateWrites || t.RequiresGrad || t.IsView) return false;
        if (!_stateNames.ContainsKey(t) && _listState is not null) _stateNames = _listState();
        return _stateNames.ContainsKey(t);
    }

    private GraphValue[] ValuesOf(ReadOnlySpan<Tensor> inputs)
    {
        var values = new GraphValue[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) values[i] = ValueOf(inputs[i]);
        return values;
    }

    private bool AnyVarying(GraphValue[] values)
    {
        foreach (var v in values)
            if (_varying.Contains(v)) return true;
        return false;
    }

    private KilnException Refuse(string message) => _refusal ??= new KilnException($"{_graph.Name}: {message}");

    /// <summary>The value of <paramref name="t"/>, making a parameter or constant of a tensor seen for the first time.</summary>
    private GraphValue ValueOf(Tensor t)
    {
        if (_values.TryGetValue(t, out var value)) return value;
        if (IsTraced(t, out var alias))
        {
            // Detach(): the same elements as a traced tensor, so the same value.
            if (alias is not null)
            {
                value = _values[alias];
                _aliased.Add(value);
                _values.Add(t, value);
                return value;
            }
            throw Refuse($"a tensor ({GraphPrinter.Spec(TensorSpec.Of(t))}) was made from a traced tensor's memory without an op; " +
                "the graph cannot follow it. Use the view ops (Reshape, Slice, Permute, ...) instead");
        }
        if (!_stateNames.ContainsKey(t) && _listState is not null) _stateNames = _listState();
        if (_stateNames.TryGetValue(t, out var name))
            value = _graph.AddParameter(name, t);
        else if (t.RequiresGrad && t.IsLeaf)
            value = _graph.AddParameter($"param{_capturedParameters++}", t);
        else
            return Capture(t);
        _values.Add(t, value);
        _varying.Add(value);
        Remember(t);
        return value;
    }

    /// <summary>A constant holding a copy of <paramref name="t"/>'s value now.</summary>
    private GraphValue Capture(Tensor t)
    {
        var copy = Tensor.Empty(t.ShapeArray, t.DType).DetachFromScope();
        Dispatcher.CopyInto(t, copy);
        var value = _graph.AddConstant(copy);
        _values.Add(t, value);
        return value;
    }

    private void Remember(Tensor t)
    {
        var storage = t.LiveStorage;
        if (!_tracedMemory.TryGetValue(storage, out var list)) _tracedMemory.Add(storage, list = new List<Tensor>(1));
        list.Add(t);
    }

    /// <summary>
    /// True when <paramref name="t"/> holds values that vary between calls: it maps to a value that
    /// depends on an input or a parameter, or shares memory with a tensor that does (then
    /// <paramref name="alias"/> is that tensor when both show the same elements).
    /// </summary>
    private bool IsTraced(Tensor t, out Tensor? alias)
    {
        alias = null;
        if (_values.TryGetValue(t, out var value)) return _varying.Contains(value);
        if (t.IsDisposed || !_tracedMemory.TryGetValue(t.LiveStorage, out var sharing)) return false;
        bool shared = false;
        foreach (var s in sharing)
        {
            // A traced tensor disposed since (a scope ended) let its storage object go to a new tensor: no relation.
            if (!s.SharesStorageWith(t)) continue;
            shared = true;
            if (s.DType == t.DType && s.OffsetElements == t.OffsetElements
                && s.ShapeArray.AsSpan().SequenceEqual(t.ShapeArray) && s.StridesArray.AsSpan().SequenceEqual(t.StridesArray))
            {
                alias = s;
                break;
            }
        }
        return shared;
    }

    private string Describe(Tensor t, GraphValue? value) => value?.Kind switch
    {
        null when _stateNames.TryGetValue(t, out var name) => $"the parameter or buffer '{name}' ({GraphPrinter.Spec(TensorSpec.Of(t))})",
        ValueKind.Input => $"a graph input ({GraphPrinter.Spec(value.Spec)})",
        ValueKind.Parameter => $"the parameter or buffer '{value.Name}' ({GraphPrinter.Spec(value.Spec)})",
        ValueKind.Constant => $"a captured tensor ({GraphPrinter.Spec(value.Spec)})",
        _ => $"a tensor the trace did not make ({GraphPrinter.Spec(TensorSpec.Of(t))})",
    };
}
