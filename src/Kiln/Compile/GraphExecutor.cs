using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Runs a graph by calling each node's op declaration directly (no dispatcher, no autograd), into the
/// memory its <see cref="MemoryPlan"/> gives: one arena allocated here, with a tensor object per
/// intermediate result made once. Views of intermediates and constants are made once too; views of
/// per-call tensors (inputs, parameters) are one object each, re-aimed at every call. So a call
/// allocates only the tensors it returns, and none when the caller passes them in. Not thread-safe:
/// <see cref="CompiledFunction"/> runs one call at a time.
/// </summary>
internal sealed class GraphExecutor : IDisposable
{
    private enum StepKind { Compute, ViewOfCallTensor, Fused }

    private sealed class Step(StepKind kind, OpDef op, OpAttributes attributes, int[] inputs, int output)
    {
        internal StepKind Kind { get; } = kind;
        internal OpDef Op { get; } = op;
        internal OpAttributes Attributes { get; } = attributes;
        internal int[] Inputs { get; } = inputs;
        internal int Output { get; } = output;
        /// <summary>The op's input tensors for this call (reused, so running allocates nothing).</summary>
        internal Tensor[] Arguments { get; } = new Tensor[inputs.Length];
        /// <summary>For a view of a per-call tensor: its offset from its source's, the same at every call (the layouts are).</summary>
        internal int ViewOffset { get; set; }
        /// <summary>For a fused elementwise node: its tiles' scratch and views, made once.</summary>
        internal FusedElementwiseRunner? Runner { get; init; }
    }

    private readonly record struct OutputBinding(int Slot, bool Returned, TensorSpec Spec, int[] Strides);

    private readonly Tensor?[] _slots;
    private readonly int[] _inputSlots;
    private readonly Step[] _steps;
    private readonly OutputBinding[] _outputs;
    private readonly List<Tensor> _owned = new();
    private readonly Tensor? _arena;

    internal GraphExecutor(Graph graph, MemoryPlan plan)
    {
        var slotOf = new Dictionary<GraphValue, int>(ReferenceEqualityComparer.Instance);
        int Slot(GraphValue v)
        {
            if (!slotOf.TryGetValue(v, out var s)) slotOf.Add(v, s = slotOf.Count);
            return s;
        }
        foreach (var v in graph.Inputs) Slot(v);
        foreach (var v in graph.Parameters) Slot(v);
        foreach (var v in graph.Constants) Slot(v);
        foreach (var n in graph.Nodes) Slot(n.Output);
        _slots = new Tensor?[slotOf.Count];
        _inputSlots = graph.Inputs.Select(Slot).ToArray();
        foreach (var v in graph.Parameters) _slots[Slot(v)] = v.Data;
        foreach (var v in graph.Constants) _slots[Slot(v)] = v.Data;

        if (plan.ArenaBytes > 0)
        {
            if (plan.ArenaBytes > int.MaxValue)
                throw new KilnException($"graph {graph.Name}: its intermediate results need {plan.ArenaBytes} bytes at once, more than one buffer holds ({int.MaxValue})");
            _arena = Tensor.Empty([(int)plan.ArenaBytes], DType.UInt8).DetachFromScope();
            var storage = _arena.LiveStorage;
            foreach (var (value, offset) in plan.Offsets)
            {
                var dims = value.Spec.Shape.Dims;
                storage.AddRef();
                var t = new Tensor(storage, dims, Shape.SharedContiguousStrides(dims), (int)(offset / value.Spec.DType.ElementSize()), value.Spec.DType);
                _slots[Slot(value)] = Own(t);
            }
        }

        var steps = new List<Step>();
        foreach (var node in graph.Nodes)
        {
            var inputs = new int[node.Inputs.Length];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = Slot(node.Inputs[i]);
            int output = Slot(node.Output);
            if (node.Attributes is FusedElementwiseAttributes fused)
            {
                var specs = new TensorSpec[node.Inputs.Length];
                for (int i = 0; i < specs.Length; i++) specs[i] = node.Inputs[i].Spec;
                steps.Add(new Step(StepKind.Fused, node.Op, node.Attributes, inputs, output) { Runner = new FusedElementwiseRunner(fused, specs) });
                continue;
            }
            if (!node.Op.IsView)
            {
                steps.Add(new Step(StepKind.Compute, node.Op, node.Attributes, inputs, output));
                continue;
            }
            var root = MemoryPlanningPass.RootOf(node.Output);
            if (root.Kind is ValueKind.Input or ValueKind.Parameter)
            {
                steps.Add(new Step(StepKind.ViewOfCallTensor, node.Op, node.Attributes, inputs, output));
                continue;
            }
            // A view of an intermediate or a constant: the same memory at every call, so made once.
            var arguments = new Tensor[inputs.Length];
            for (int i = 0; i < inputs.Length; i++) arguments[i] = _slots[inputs[i]]!;
            var view = node.Op.ViewUntyped(arguments, node.Attributes);
            _slots[output] = Own(view);
        }
        _steps = steps.ToArray();

        _outputs = new OutputBinding[graph.Outputs.Count];
        var seen = new HashSet<GraphValue>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < _outputs.Length; k++)
        {
            var value = graph.Outputs[k];
            bool returned = plan.Returned.Contains(value) && seen.Add(value);
            var dims = value.Spec.Shape.Dims;
            _outputs[k] = new OutputBinding(Slot(value), returned, value.Spec, Shape.SharedContiguousStrides(dims));
        }
    }

    private void RunStep(Step step)
    {
        var arguments = step.Arguments;
        for (int i = 0; i < arguments.Length; i++) arguments[i] = _slots[step.Inputs[i]]!;
        if (step.Kind == StepKind.Compute) step.Op.ForwardUntyped(arguments, step.Attributes, _slots[step.Output]!);
        else if (step.Kind == StepKind.Fused) step.Runner!.Run(arguments, _slots[step.Output]!);
        else AimView(step, arguments[0]);
    }

    internal int OutputCount => _outputs.Length;

    internal TensorSpec OutputSpec(int k) => _outputs[k].Spec;

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/>. With <paramref name="intoOutputs"/> the results are
    /// written into the (checked, contiguous) tensors already in <paramref name="outputs"/>; otherwise
    /// new tensors are put there.
    /// </summary>
    internal void Run(ReadOnlySpan<Tensor> inputs, Span<Tensor?> outputs, bool intoOutputs)
    {
        for (int i = 0; i < _inputSlots.Length; i++) _slots[_inputSlots[i]] = inputs[i];
        for (int k = 0; k < _outputs.Length; k++)
        {
            var o = _outputs[k];
            if (!o.Returned) continue;
            var t = intoOutputs ? outputs[k]! : Tensor.Allocate(o.Spec.Shape, o.Spec.DType, o.Strides);
            _slots[o.Slot] = t;
            outputs[k] = t;
        }
        try
        {
            if (Profiler.Active is { } profiler)
            {
                foreach (var step in _steps)
                {
                    long start = profiler.Enter();
                    try { RunStep(step); }
                    finally { profiler.Exit(start, step.Op.Name, step.Arguments); }
                }
            }
            else
            {
                foreach (var step in _steps) RunStep(step);
            }
            for (int k = 0; k < _outputs.Length; k++)
            {
                var o = _outputs[k];
                if (o.Returned) continue;
                var t = intoOutputs ? outputs[k]! : Tensor.Allocate(o.Spec.Shape, o.Spec.DType, o.Strides);
                Dispatcher.CopyInto(_slots[o.Slot]!, t);
                outputs[k] = t;
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Points the step's view at this call's source tensor (made at the first call, re-aimed after).</summary>
    private void AimView(Step step, Tensor source)
    {
        var view = _slots[step.Output];
        if (view is null)
        {
            view = step.Op.ViewUntyped(step.Arguments, step.Attributes).DetachFromScope();
            step.ViewOffset = view.OffsetElements - source.OffsetElements;
            _slots[step.Output] = view;
            return;
        }
        view.RebindView(source, source.OffsetElements + step.ViewOffset);
    }

    /// <summary>Lets go of this call's tensors: the inputs, the returned results, and the memory the views of inputs hold.</summary>
    private void Release()
    {
        foreach (var slot in _inputSlots) _slots[slot] = null;
        foreach (var o in _outputs)
            if (o.Returned) _slots[o.Slot] = null;
        foreach (var step in _steps)
        {
            Array.Clear(step.Arguments);
            if (step.Kind == StepKind.ViewOfCallTensor) _slots[step.Output]?.Dispose();
        }
    }

    private Tensor Own(Tensor t)
    {
        t.DetachFromScope();
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
        foreach (var step in _steps)
        {
            if (step.Kind == StepKind.ViewOfCallTensor) _slots[step.Output]?.Dispose();
            step.Runner?.Dispose();
        }
        _arena?.Dispose();
    }
}
