using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Runs one op: checks shapes and dtypes through its declaration, runs its forward (or makes its
/// view), and records it on the autograd tape when gradients are on and an input requires them.
/// While a trace is capturing on this thread (<see cref="TraceRecorder"/>), each op is also handed
/// to the recorder; the ops an op's forward runs internally are not.
/// </summary>
internal static class Dispatcher
{
    internal static Tensor Call(OpDef op, OpAttributes attributes, params ReadOnlySpan<Tensor> inputs)
    {
        if (TraceRecorder.Current is { } recorder) return CallTraced(recorder, op, attributes, inputs);
        if (Profiler.Active is { } profiler) return CallProfiled(profiler, op, attributes, inputs);
        return CallCore(op, attributes, inputs);
    }

    // Kept out of Call: a try/finally there made every eager op slower, profiled or not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor CallProfiled(Profiler profiler, OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs)
    {
        long start = profiler.Enter();
        try { return CallCore(op, attributes, inputs); }
        finally { profiler.Exit(start, op.Name, inputs); }
    }

    private static Tensor CallCore(OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs)
    {
        var spec = Infer(op, attributes, inputs);
        Tensor output;
        if (op.IsView)
        {
            output = op.ViewUntyped(inputs, attributes);
            output.IsView = true;
        }
        else
        {
            output = AllocateOutput(spec, inputs);
            op.ForwardUntyped(inputs, attributes, output);
        }
        if (GradMode.AnomalyDetection) CheckFinite(op, output);
        Record(op, attributes, inputs, output);
        return output;
    }

    /// <summary>
    /// Runs an op and writes the result into <paramref name="target"/> (which is also inputs[0] for
    /// x.AddInPlace(y) style calls). The target's version is bumped, and its autograd history is
    /// rebased onto the new node, as PyTorch does.
    /// </summary>
    internal static Tensor CallInPlace(OpDef op, OpAttributes attributes, Tensor target, params ReadOnlySpan<Tensor> inputs)
    {
        if (TraceRecorder.Current is { } recorder) return CallInPlaceTraced(recorder, op, attributes, target, inputs);
        if (Profiler.Active is { } profiler) return CallInPlaceProfiled(profiler, op, attributes, target, inputs);
        return CallInPlaceCore(op, attributes, target, inputs);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor CallInPlaceProfiled(Profiler profiler, OpDef op, OpAttributes attributes, Tensor target, ReadOnlySpan<Tensor> inputs)
    {
        long start = profiler.Enter();
        try { return CallInPlaceCore(op, attributes, target, inputs); }
        finally { profiler.Exit(start, op.Name + "_", inputs); }
    }

    private static Tensor CallInPlaceCore(OpDef op, OpAttributes attributes, Tensor target, ReadOnlySpan<Tensor> inputs)
    {
        var spec = Infer(op, attributes, inputs);
        if (spec.Shape != target.Shape)
            throw op.Error($"in-place result of shape {spec.Shape} cannot be written into a tensor of shape {target.Shape}", SpecsOf(inputs));
        if (spec.DType != target.DType)
            throw op.Error($"in-place result of dtype {spec.DType.Name()} cannot be written into a {target.DType.Name()} tensor", SpecsOf(inputs));
        // A broadcast view repeats one memory location along a dimension; writing into it would keep an arbitrary one of the results.
        for (int i = 0; i < target.Rank; i++)
            if (target.StridesArray[i] == 0 && target.ShapeArray[i] > 1)
                throw op.Error($"cannot write in place into a broadcast (expanded) tensor of shape {target.Shape}: several elements share one memory location; Clone() it first", SpecsOf(inputs));
        bool track = GradMode.IsEnabled && op.IsDifferentiable && target.DType.IsFloatingPoint() && AnyRequiresGrad(inputs);
        // The new node would describe the view only; its base would keep a history that misses the change.
        if (track && target.IsView)
            throw new KilnAutogradException($"{op.Name}: an in-place change of a view ({target.Shape} {target.DType.Name()}) is not tracked by autograd; apply the op out of place (for example with Cat), or Clone() the view first");
        if (target.RequiresGrad && GradMode.IsEnabled)
        {
            if (target.IsLeaf)
                throw new KilnAutogradException($"{op.Name}: a leaf tensor that requires grad ({target.Shape} {target.DType.Name()}) cannot be changed in place; wrap the update in Engine.NoGrad()");
        }

        // The old value keeps the history it had, under a new tensor object the new node can save.
        // When backward reads that value (Mul, Div, Clamp), it is a copy, since the write below
        // destroys the original (PyTorch saves a clone of self the same way).
        Tensor[]? saved = null;
        if (track)
        {
            saved = inputs.ToArray();
            Tensor? old = null;
            for (int i = 0; i < saved.Length; i++)
            {
                if (!ReferenceEquals(saved[i], target)) continue;
                if (old is null)
                {
                    old = op.BackwardReadsInputs ? CopyOf(target) : target.Detach();
                    old.GradFn = target.GradFn;
                    old.SetRequiresGradUnchecked(target.RequiresGrad);
                }
                saved[i] = old;
            }
        }

        var node = track ? new OpNode(op, attributes, saved!) : null;
        bool aliasSafe = op.Fusion == FusionKind.Elementwise && target.IsContiguous;
        foreach (var input in inputs)
            if (input.SharesStorageWith(target) && !ReferenceEquals(input, target)) aliasSafe = false;
        if (aliasSafe)
        {
            op.ForwardUntyped(inputs, attributes, target);
        }
        else
        {
            using var tmp = Tensor.Empty(spec.Shape.AsSpan(), spec.DType);
            op.ForwardUntyped(inputs, attributes, tmp);
            CopyInto(tmp, target);
        }
        target.BumpVersion();
        if (GradMode.AnomalyDetection) CheckFinite(op, target);
        if (node is not null)
        {
            target.GradFn = node;
            target.SetRequiresGradUnchecked(true);
            node.SaveOutput(target);
        }
        return target;
    }

    /// <summary>Runs the op eagerly with recording off (so its internal ops stay out of the graph), then records it.</summary>
    private static Tensor CallTraced(ITraceRecorder recorder, OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs)
    {
        Tensor output;
        using (TraceRecorder.Suspend()) output = Call(op, attributes, inputs);
        recorder.RecordCall(op, attributes, inputs, output);
        return output;
    }

    /// <summary>Lets the recorder record (or refuse) a write that fits the target, then writes with recording off (a misfit fails there, as in eager mode).</summary>
    private static Tensor CallInPlaceTraced(ITraceRecorder recorder, OpDef op, OpAttributes attributes, Tensor target, ReadOnlySpan<Tensor> inputs)
    {
        var spec = Infer(op, attributes, inputs);
        if (spec.Shape == target.Shape && spec.DType == target.DType) recorder.RecordInPlace(op, attributes, target, inputs);
        using (TraceRecorder.Suspend()) return CallInPlace(op, attributes, target, inputs);
    }

    internal static TensorSpec Infer(OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs)
    {
        op.CheckArity(inputs.Length);
        var buffer = new TensorSpecBuffer();
        var specs = inputs.Length <= TensorSpecBuffer.Length ? ((Span<TensorSpec>)buffer)[..inputs.Length] : new TensorSpec[inputs.Length];
        FillSpecs(inputs, specs);
        return op.InferUntyped(specs, attributes);
    }

    internal static TensorSpec[] SpecsOf(ReadOnlySpan<Tensor> inputs)
    {
        var specs = new TensorSpec[inputs.Length];
        FillSpecs(inputs, specs);
        return specs;
    }

    private static void FillSpecs(ReadOnlySpan<Tensor> inputs, Span<TensorSpec> specs)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null) throw new ArgumentNullException($"input {i}");
            if (inputs[i].IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"input {i} was disposed");
            specs[i] = TensorSpec.Of(inputs[i]);
        }
    }

    /// <summary>
    /// The output tensor for <paramref name="spec"/>. Inference hands back an input's own shape when
    /// the output has it (elementwise ops), and shapes never change, so the output shares that
    /// dimension array, and the input's strides array too when the input is laid out contiguously.
    /// </summary>
    private static Tensor AllocateOutput(TensorSpec spec, ReadOnlySpan<Tensor> inputs)
    {
        var dims = spec.Shape.Dims;
        foreach (var input in inputs)
            if (ReferenceEquals(input.ShapeArray, dims) && Shape.IsContiguousStrides(dims, input.StridesArray))
                return Tensor.Allocate(spec.Shape, spec.DType, input.StridesArray);
        return Tensor.Allocate(spec.Shape, spec.DType);
    }

    private static bool AnyRequiresGrad(ReadOnlySpan<Tensor> inputs)
    {
        foreach (var t in inputs)
            if (t.RequiresGrad) return true;
        return false;
    }

    private static void Record(OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs, Tensor output)
    {
        if (!GradMode.IsEnabled || !op.IsDifferentiable || !output.DType.IsFloatingPoint() || !AnyRequiresGrad(inputs)) return;
        var node = new OpNode(op, attributes, inputs.ToArray());
        output.GradFn = node;
        output.SetRequiresGradUnchecked(true);
        node.SaveOutput(output);
    }

    private static Tensor CopyOf(Tensor t)
    {
        var copy = Tensor.Empty(t.ShapeArray, t.DType);
        CopyInto(t, copy);
        return copy;
    }

    /// <summary>Copies values between two tensors of the same shape and dtype, any strides.</summary>
    internal static unsafe void CopyInto(Tensor source, Tensor destination)
    {
        var layout = StridedLayout.Create(destination.ShapeArray, destination.StridesArray, (source.ShapeArray, source.StridesArray));
        CopyKernel.Copy(layout, (byte*)destination.DataPointer, (byte*)source.DataPointer, source.DType.ElementSize());
    }

    internal static void CheckFinite(OpDef op, Tensor t)
    {
        if (!t.DType.IsFloatingPoint()) return;
        if (!FiniteCheck.AllFinite(t))
            throw new KilnAutogradException($"anomaly: {op.Name} produced NaN or infinity in its output of shape {t.Shape}");
    }
}
