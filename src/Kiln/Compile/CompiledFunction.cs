using Kiln.NN;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// A function or module compiled into a graph (made by <c>Engine.Compile</c>). The first call with a
/// new input signature (shapes, dtypes, layouts, grad mode, a module's training mode) runs the code
/// eagerly while recording its ops, so it returns the eager results; the graph is then optimized and
/// its memory planned. Later calls with that signature replay the graph without running the code:
/// no dispatch, no autograd, and no allocation beyond the returned tensors (none with
/// <see cref="CallInto"/>). A new signature traces again; the last few signatures are kept.
/// <para>
/// Compiled functions compute values for inference: results never require grad, and a call with an
/// input that requires grad while gradients are on is refused (train with the eager code). A
/// module's parameters and buffers are read at every call, so training the module eagerly and then
/// calling the compiled one sees the new weights. Every other tensor the code captures or creates is
/// frozen at its traced value, and C# control flow is frozen along the path the trace took: see the
/// tracer's limits (a value read with Item() during tracing is refused). Returned tensors are always
/// new tensors the caller owns. Calls run one at a time.
/// </para>
/// <para>
/// A compiled function is saved with <c>compiled.Save("model.kiln")</c> (its most recent signature's
/// graph and weights) and loaded with <c>Engine.Load</c>: the loaded function has no code behind it
/// and runs the saved signature only; a call with other shapes or dtypes is refused with an error
/// naming the expected and given ones.
/// </para>
/// <para>
/// <see cref="CompileOptions"/> change two of these rules: frozen parameters are read once, at the
/// trace, and a dynamic batch dimension lets a new batch size reuse the traced graph.
/// </para>
/// </summary>
public sealed class CompiledFunction : IDisposable
{
    /// <summary>How many traced signatures are kept; the least recently used goes first.</summary>
    internal const int MaxSignatures = 8;

    private readonly string _name;
    // Null for a function loaded from a file: it runs its saved graph and nothing else.
    private readonly Func<Tensor[], Tensor[]>? _function;
    // Tensors a loaded function owns (its weights), released by Dispose.
    private readonly IReadOnlyList<Tensor> _owned = [];
    private readonly Module? _module;
    // The number of inputs every call takes, or -1 for a function of a tensor array (any number).
    private readonly int _inputCount;
    private readonly List<CompiledGraph> _graphs = new();
    private readonly CompileOptions _options;
    // With a dynamic batch dimension: portable graphs (owning their constants) that new batch sizes are made from.
    private readonly List<(TraceSignature Signature, Graph Graph, int Batch)> _templates = new();
    private readonly object _gate = new();
    private CompiledGraph? _latest;
    private bool _disposed;

    internal CompiledFunction(string name, Func<Tensor[], Tensor[]> function, int inputCount, Module? module, CompileOptions? options = null)
    {
        _options = options ?? new CompileOptions();
        _name = name;
        _inputCount = inputCount;
        _function = function;
        _module = module;
    }

    /// <summary>
    /// A function that runs <paramref name="loaded"/> (read from a file), owning <paramref name="owned"/>.
    /// With <see cref="CompileOptions.DynamicBatch"/> the saved graph is also the template other batch
    /// sizes are re-specialized from (the file was saved at batch size 2 or more, every input batched).
    /// </summary>
    internal CompiledFunction(CompiledGraph loaded, IReadOnlyList<Tensor> owned, CompileOptions options)
    {
        _name = loaded.Graph.Name;
        _options = options;
        _inputCount = loaded.Graph.Inputs.Count;
        if (options.DynamicBatch)
        {
            var inputs = loaded.Portable.Inputs;
            int batch = -1;
            for (int i = 0; i < inputs.Count; i++)
            {
                var dims = inputs[i].Spec.Shape.Dims;
                if (dims.Length == 0 || (batch >= 0 && dims[0] != batch))
                    throw new ArgumentException($"{_name}: DynamicBatch needs every input to have the same dimension 0 (its batch size); the saved inputs are " +
                        string.Join(", ", inputs.Select(v => GraphPrinter.Spec(v.Spec))));
                batch = dims[0];
            }
            if (!BatchRespecialization.CanRespecialize(batch))
                throw new ArgumentException($"{_name}: DynamicBatch cannot follow a graph saved at batch size {batch} (a leading 1 cannot be told from a batch); " +
                    "save the compiled function after calling it at a batch size of 2 or more");
            AddTemplate(loaded.Signature, loaded.Portable.Copy(), batch);
        }
        _owned = owned;
        _graphs.Add(loaded);
        _latest = loaded;
    }

    /// <summary>
    /// Calls <paramref name="read"/> with the portable graph (before lowering) of the most recent
    /// signature, while no call or Dispose can change it: what a <c>.kiln</c> file saves.
    /// </summary>
    internal void ReadPortableGraph(Action<Graph> read)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            read(_latest?.Portable ?? throw new InvalidOperationException(
                $"{_name} has not been called yet: call it once on an example input, so its graph is traced, before saving it"));
        }
    }

    /// <summary>How many times the code has been traced (once per new input signature): a count that keeps growing means shapes keep changing.</summary>
    public int TraceCount { get; private set; }

    /// <summary>The optimized graph of the most recent traced (or, with a dynamic batch, re-specialized) signature, as text (for reading and debugging).</summary>
    public string GraphText
    {
        get
        {
            lock (_gate)
                return _latest?.Graph.ToString() ?? throw new InvalidOperationException($"{_name} has not been called yet: its graph is traced at the first call");
        }
    }

    /// <summary>Runs a one-input, one-output function on <paramref name="input"/>.</summary>
    public Tensor Call(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Tensor? result = null;
        Run(new ReadOnlySpan<Tensor>(in input), new Span<Tensor?>(ref result), intoOutputs: false);
        return result!;
    }

    /// <summary>Runs a two-input, one-output function.</summary>
    public Tensor Call(Tensor input0, Tensor input1)
    {
        ArgumentNullException.ThrowIfNull(input0);
        ArgumentNullException.ThrowIfNull(input1);
        Tensor? result = null;
        ReadOnlySpan<Tensor> inputs = [input0, input1];
        Run(inputs, new Span<Tensor?>(ref result), intoOutputs: false);
        return result!;
    }

    /// <summary>
    /// Runs a one-input, one-output function and writes the result into <paramref name="output"/>
    /// (contiguous, of the result's shape and dtype, sharing no memory with the input), so a steady
    /// stream of calls allocates nothing at all.
    /// </summary>
    public void CallInto(Tensor input, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Tensor? result = output;
        Run(new ReadOnlySpan<Tensor>(in input), new Span<Tensor?>(ref result), intoOutputs: true);
    }

    /// <summary>Runs the function on any number of inputs and returns all its results.</summary>
    public Tensor[] Invoke(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var t in inputs) ArgumentNullException.ThrowIfNull(t, nameof(inputs));
        bool grad = CheckInputs(inputs);
        if (TraceRecorder.Current is not null) return RunForOuterTrace(inputs);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            bool training = _module?.IsTraining ?? false;
            if ((Find(inputs, grad, training) ?? Respecialize(inputs, grad, training)) is not { } graph)
            {
                if (_function is null)
                {
                    var results = new Tensor?[_latest!.Executor.OutputCount];
                    RunLoaded(inputs, results, intoOutputs: false);
                    return results!;
                }
                return Trace(inputs, grad, training);
            }
            var outputs = new Tensor?[graph.Executor.OutputCount];
            using (new GradModeScope(enabled: false))
                graph.Executor.Run(inputs, outputs, intoOutputs: false);
            return outputs!;
        }
    }

    /// <summary>Runs the function and writes its results into <paramref name="outputs"/> (each checked as in <see cref="CallInto"/>).</summary>
    public void InvokeInto(Tensor[] inputs, Tensor[] outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        foreach (var t in inputs) ArgumentNullException.ThrowIfNull(t, nameof(inputs));
        foreach (var t in outputs) ArgumentNullException.ThrowIfNull(t, nameof(outputs));
        var results = new Tensor?[outputs.Length];
        outputs.CopyTo(results, 0);
        Run(inputs, results, intoOutputs: true);
    }

    /// <summary>Releases the planned memory and constants of every traced signature.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var g in _graphs) g.Dispose();
            _graphs.Clear();
            foreach (var t in _owned) t.Dispose();
            DropTemplates();
            _latest = null;
            _disposed = true;
        }
    }

    /// <summary>Refuses disposed inputs and inputs that require grad while gradients are on; returns the grad mode.</summary>
    private bool CheckInputs(ReadOnlySpan<Tensor> inputs)
    {
        if (_inputCount >= 0 && inputs.Length != _inputCount)
            throw new ArgumentException($"{_name} takes {_inputCount} input{(_inputCount == 1 ? "" : "s")}, got {inputs.Length}");
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"{_name}: input {i} was disposed");
        bool grad = GradMode.IsEnabled;
        if (grad)
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].RequiresGrad)
                    throw new KilnException($"{_name}: input {i} ({GraphPrinter.Spec(TensorSpec.Of(inputs[i]))}) requires grad, but compiled " +
                        "functions run inference only for now (no gradient flows through them). Call it under Engine.NoGrad(), " +
                        "or call the eager code to train");
        return grad;
    }

    private void Run(ReadOnlySpan<Tensor> inputs, Span<Tensor?> outputs, bool intoOutputs)
    {
        bool grad = CheckInputs(inputs);
        // Called while another function traces: run the code, so the outer trace records its ops.
        if (TraceRecorder.Current is not null)
        {
            if (intoOutputs)
                throw new KilnException($"{_name}: writing results into given tensors is not supported while another function traces; use Call");
            var eager = RunForOuterTrace(inputs.ToArray());
            CheckCount(eager.Length, outputs.Length);
            for (int k = 0; k < eager.Length; k++) outputs[k] = eager[k];
            return;
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            bool training = _module?.IsTraining ?? false;
            if ((Find(inputs, grad, training) ?? Respecialize(inputs, grad, training)) is not { } graph)
            {
                if (_function is null)
                {
                    RunLoaded(inputs, outputs, intoOutputs);
                    return;
                }
                var results = Trace(inputs, grad, training);
                CheckCount(results.Length, outputs.Length);
                if (intoOutputs) CheckOutputs(_latest!, inputs, outputs);
                for (int k = 0; k < results.Length; k++)
                {
                    if (intoOutputs) Dispatcher.CopyInto(results[k], outputs[k]!);
                    else outputs[k] = results[k];
                }
                return;
            }
            CheckCount(graph.Executor.OutputCount, outputs.Length);
            if (intoOutputs) CheckOutputs(graph, inputs, outputs);
            using (new GradModeScope(enabled: false))
                graph.Executor.Run(inputs, outputs, intoOutputs);
        }
    }

    /// <summary>The graph traced for this signature (moved to the front), or null. A graph whose parameters changed layout is dropped.</summary>
    private CompiledGraph? Find(ReadOnlySpan<Tensor> inputs, bool grad, bool training)
    {
        for (int i = 0; i < _graphs.Count; i++)
        {
            var g = _graphs[i];
            if (!g.Signature.Matches(inputs, grad, training)) continue;
            _graphs.RemoveAt(i);
            if (!g.ParametersUnchanged())
            {
                DropTemplates();
                g.Dispose();
                if (ReferenceEquals(_latest, g)) _latest = null;
                return null;
            }
            _graphs.Insert(0, g);
            return g;
        }
        return null;
    }

    /// <summary>
    /// Runs the code while another function traces, so the outer trace records its ops: the C# code,
    /// or for a loaded function its saved graph op by op through the dispatcher.
    /// </summary>
    private Tensor[] RunForOuterTrace(Tensor[] inputs)
    {
        if (_function is not null) return _function(inputs);
        Graph graph;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            graph = _latest!.Portable;
        }
        CheckLoadedSpecs(graph, inputs);
        var values = new Dictionary<GraphValue, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++) values[graph.Inputs[i]] = inputs[i];
        foreach (var p in graph.Parameters) values[p] = p.Data!;
        foreach (var c in graph.Constants) values[c] = c.Data!;
        foreach (var node in graph.Nodes)
        {
            var arguments = new Tensor[node.Inputs.Length];
            for (int i = 0; i < arguments.Length; i++) arguments[i] = values[node.Inputs[i]];
            values[node.Output] = Dispatcher.Call(node.Op, node.Attributes, arguments);
        }
        var results = new Tensor[graph.Outputs.Count];
        for (int k = 0; k < results.Length; k++) results[k] = values[graph.Outputs[k]];
        return results;
    }

    /// <summary>
    /// A loaded function called with inputs its saved signature does not match: inputs of the saved
    /// shapes and dtypes that are not row-major run on contiguous copies; anything else is refused.
    /// </summary>
    private void RunLoaded(ReadOnlySpan<Tensor> inputs, Span<Tensor?> outputs, bool intoOutputs)
    {
        var loaded = _latest!;
        CheckLoadedSpecs(loaded.Graph, inputs);
        var dense = new Tensor[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) dense[i] = Graph.IsRowMajor(inputs[i]) ? inputs[i] : CopyOf(inputs[i]);
            CheckCount(loaded.Executor.OutputCount, outputs.Length);
            if (intoOutputs) CheckOutputs(loaded, dense, outputs);
            using (new GradModeScope(enabled: false))
                loaded.Executor.Run(dense, outputs, intoOutputs);
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++)
                if (dense[i] is { } d && !ReferenceEquals(d, inputs[i])) d.Dispose();
        }
    }

    private void CheckLoadedSpecs(Graph graph, ReadOnlySpan<Tensor> inputs)
    {
        bool same = inputs.Length == graph.Inputs.Count;
        for (int i = 0; same && i < inputs.Length; i++) same = TensorSpec.Of(inputs[i]) == graph.Inputs[i].Spec;
        if (same) return;
        var expected = new string[graph.Inputs.Count];
        for (int i = 0; i < expected.Length; i++) expected[i] = GraphPrinter.Spec(graph.Inputs[i].Spec);
        var given = new string[inputs.Length];
        for (int i = 0; i < given.Length; i++) given[i] = GraphPrinter.Spec(TensorSpec.Of(inputs[i]));
        throw new ArgumentException($"{_name} was loaded from a file and runs only the signature it was saved with: it takes " +
            $"({string.Join(", ", expected)}), got ({string.Join(", ", given)}). Save the compiled function after calling it with these shapes to run them");
    }

    /// <summary>
    /// Runs the code on <paramref name="inputs"/> while recording, compiles the graph for this
    /// signature and returns the eager results (copied where a result is not a new tensor of its own:
    /// an input, a view, a captured tensor, or the same tensor twice).
    /// </summary>
    private Tensor[] Trace(ReadOnlySpan<Tensor> inputs, bool grad, bool training)
    {
        // One tensor passed twice traces as two inputs (later calls may pass two different tensors).
        var arguments = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            arguments[i] = Array.IndexOf(arguments, inputs[i], 0, i) >= 0 ? inputs[i].Detach() : inputs[i];
        var (tracer, results) = GraphTracer.Capture(_name, _function!, arguments, _module is null ? null : StateNames);

        var handedBack = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var eager = new Tensor[results.Length];
        for (int k = 0; k < results.Length; k++)
        {
            var r = results[k];
            bool own = tracer.Lookup(r) is { Kind: ValueKind.Node, IsView: false } && handedBack.Add(r);
            eager[k] = own ? r : CopyOf(r);
        }

        var graph = tracer.Graph;
        var signature = TraceSignature.Of(arguments, grad, training);
        int batch = _options.DynamicBatch ? BatchRespecialization.BatchOf(_name, arguments) : 0;
        var (portable, executed) = PassPipeline.Optimize(graph, _options, KilnEnvironment.DumpGraphDirectory);
        var compiled = new CompiledGraph(signature, portable, executed);
        _ = compiled.Executor;
        // Later batch sizes are made from the portable graph; the template's own copy outlives this signature.
        if (_options.DynamicBatch && BatchRespecialization.CanRespecialize(batch)) AddTemplate(signature, portable.Copy(), batch);
        Add(compiled);
        TraceCount++;
        return eager;
    }

    /// <summary>Keeps <paramref name="compiled"/> as the most recent graph, letting the least recently used go past <see cref="MaxSignatures"/>.</summary>
    private void Add(CompiledGraph compiled)
    {
        _graphs.Insert(0, compiled);
        while (_graphs.Count > MaxSignatures)
        {
            _graphs[^1].Dispose();
            _graphs.RemoveAt(_graphs.Count - 1);
        }
        _latest = compiled;
    }

    private void AddTemplate(TraceSignature signature, Graph template, int batch)
    {
        _templates.Insert(0, (signature, template, batch));
        while (_templates.Count > MaxSignatures)
        {
            _templates[^1].Graph.DisposeConstants();
            _templates.RemoveAt(_templates.Count - 1);
        }
    }

    private void DropTemplates()
    {
        foreach (var t in _templates) t.Graph.DisposeConstants();
        _templates.Clear();
    }

    /// <summary>
    /// With a dynamic batch dimension: the graph of a traced signature that differs from this call's in
    /// the batch size only, re-specialized for this call's batch size (lowered and planned; no tracing).
    /// </summary>
    private CompiledGraph? Respecialize(ReadOnlySpan<Tensor> inputs, bool grad, bool training)
    {
        if (!_options.DynamicBatch || _templates.Count == 0) return null;
        int batch = BatchRespecialization.BatchOf(_name, inputs);
        foreach (var (signature, template, traced) in _templates)
        {
            if (!signature.MatchesExceptBatch(inputs, grad, training)) continue;
            var portable = BatchRespecialization.Respecialize(template, traced, batch);
            var graph = portable.Copy();
            PassPipeline.Run(graph, PassPipeline.Lowering(_options), KilnEnvironment.DumpGraphDirectory,
                $"re-specializing for batch size {batch}", $"Batch{batch}");
            var resized = signature.IsLoaded ? TraceSignature.Loaded(portable.Inputs) : TraceSignature.Of(inputs, grad, training);
            var compiled = new CompiledGraph(resized, portable, graph);
            Add(compiled);
            return compiled;
        }
        return null;
    }

    private void CheckCount(int results, int expected)
    {
        if (results != expected)
            throw new ArgumentException($"{_name} returns {results} tensors, but this call takes {expected}; use Invoke for any number of results");
    }

    /// <summary>Checks that each caller tensor fits its result: contiguous, the right spec, no memory shared with an input or parameter.</summary>
    private void CheckOutputs(CompiledGraph compiled, ReadOnlySpan<Tensor> inputs, Span<Tensor?> outputs)
    {
        var executor = compiled.Executor;
        for (int k = 0; k < outputs.Length; k++)
        {
            var o = outputs[k]!;
            var spec = executor.OutputSpec(k);
            if (o.IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"{_name}: output {k} was disposed");
            if (TensorSpec.Of(o) != spec || !o.IsContiguous)
                throw new ArgumentException($"{_name}: output {k} must be a contiguous {GraphPrinter.Spec(spec)} tensor, got {GraphPrinter.Spec(TensorSpec.Of(o))}{(o.IsContiguous ? "" : " (strided)")}");
            foreach (var input in inputs)
                if (o.SharesStorageWith(input))
                    throw new ArgumentException($"{_name}: output {k} shares memory with an input; pass a tensor of its own");
            for (int j = 0; j < k; j++)
                if (o.SharesStorageWith(outputs[j]!))
                    throw new ArgumentException($"{_name}: outputs {j} and {k} share memory; pass tensors of their own");
            foreach (var p in compiled.Graph.Parameters)
                if (o.SharesStorageWith(p.Data!))
                    throw new ArgumentException($"{_name}: output {k} shares memory with the parameter '{p.Name}'; pass a tensor of its own");
        }
    }

    /// <summary>A compiled module's parameters and buffers by identity, with their names ("fc1.weight").</summary>
    private IReadOnlyDictionary<Tensor, string> StateNames() => ModuleStateNames.Of(_module);

    private static Tensor CopyOf(Tensor t)
    {
        var copy = Tensor.Empty(t.ShapeArray, t.DType);
        Dispatcher.CopyInto(t, copy);
        return copy;
    }
}
