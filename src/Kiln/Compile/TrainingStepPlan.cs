using Kiln.Optim;

namespace Kiln.Compile;

/// <summary>
/// One traced signature of a <see cref="CompiledStep"/>: the graph of forward and backward, its
/// executor, and the persistent buffers its outputs are written into at every replay: the loss, one
/// gradient buffer per optimized parameter that gets a gradient, the new values of the module buffers
/// the step writes in place (BatchNorm's running statistics), and the extra results the step function
/// returns after the loss (the model's outputs, for metrics). A replay runs the graph into those
/// buffers, copies the new buffer values into the module's buffers, then runs the optimizer's fused
/// update over the gradient buffers: nothing is allocated.
/// </summary>
internal sealed class TrainingStepPlan : IDisposable
{
    private readonly Tensor?[] _outputs;
    // The gradient buffer of each optimized parameter by its optimizer index (null: no gradient, not updated).
    private readonly Tensor?[] _gradients;
    private readonly (Tensor Buffer, Tensor NewValue)[] _stateWrites;
    private readonly Tensor[] _extras;
    private readonly Tensor[] _parameters;
    private readonly CompileStepOptions? _clipping;

    /// <param name="compiled">The optimized graph and its executor; outputs are the loss, then the gradients, then the written buffers, then the extras.</param>
    /// <param name="parameters">The optimizer's parameters when traced, by index.</param>
    /// <param name="gradientOf">For each output gradient (in output order), the index of its parameter.</param>
    /// <param name="writtenState">The module buffers written in place, in output order.</param>
    /// <param name="extraCount">How many extra results follow.</param>
    /// <param name="clipping">What is done to the gradients before the optimizer's update (null: nothing).</param>
    internal TrainingStepPlan(CompiledGraph compiled, Tensor[] parameters, int[] gradientOf, IReadOnlyList<Tensor> writtenState, int extraCount, CompileStepOptions? clipping)
    {
        _clipping = clipping;
        Compiled = compiled;
        _parameters = parameters;
        var executor = compiled.Executor;
        _outputs = new Tensor?[executor.OutputCount];
        for (int k = 0; k < _outputs.Length; k++)
        {
            var spec = executor.OutputSpec(k);
            _outputs[k] = Tensor.Empty(spec.Shape.AsSpan(), spec.DType).DetachFromScope();
        }
        Loss = _outputs[0]!;
        _gradients = new Tensor?[parameters.Length];
        for (int j = 0; j < gradientOf.Length; j++) _gradients[gradientOf[j]] = _outputs[1 + j];
        int first = 1 + gradientOf.Length;
        _stateWrites = new (Tensor, Tensor)[writtenState.Count];
        for (int j = 0; j < _stateWrites.Length; j++) _stateWrites[j] = (writtenState[j], _outputs[first + j]!);
        first += _stateWrites.Length;
        _extras = new Tensor[extraCount];
        for (int j = 0; j < extraCount; j++) _extras[j] = _outputs[first + j]!;
    }

    internal CompiledGraph Compiled { get; }

    internal TraceSignature Signature => Compiled.Signature;

    /// <summary>The loss of the last step (a 0-d tensor this plan owns, overwritten by the next step).</summary>
    internal Tensor Loss { get; }

    /// <summary>The extra results of the last step (owned by this plan, overwritten by the next step).</summary>
    internal Tensor[] Extras => _extras;

    /// <summary>The gradient buffer of the optimizer's parameter <paramref name="index"/> after the last step, or null when it gets no gradient.</summary>
    internal Tensor? Gradient(int index) => _gradients[index];

    /// <summary>True while the plan fits: the optimizer holds the same parameters, each with the layout the plan was made for.</summary>
    internal bool StillValid(Optimizer optimizer)
    {
        if (!Compiled.ParametersUnchanged()) return false;
        int index = 0;
        var groups = optimizer.ParamGroups;
        for (int g = 0; g < groups.Count; g++)
        {
            var parameters = groups[g].Params;
            for (int k = 0; k < parameters.Count; k++, index++)
                if (index >= _parameters.Length || !ReferenceEquals(parameters[k], _parameters[index])) return false;
        }
        return index == _parameters.Length;
    }

    /// <summary>Writes the trace's eager results (loss, gradients, extras) into the buffers, so the traced step reads like a replayed one.</summary>
    internal void Adopt(Tensor loss, Tensor?[] gradients, ReadOnlySpan<Tensor> extras)
    {
        Ops.Dispatcher.CopyInto(loss, Loss);
        for (int i = 0; i < gradients.Length; i++)
            if (gradients[i] is { } g && _gradients[i] is { } buffer) Ops.Dispatcher.CopyInto(g, buffer);
        for (int j = 0; j < _extras.Length; j++) Ops.Dispatcher.CopyInto(extras[j], _extras[j]);
    }

    /// <summary>Runs forward and backward on <paramref name="inputs"/>, writes the new buffer values back, and lets <paramref name="optimizer"/> update the parameters.</summary>
    internal void Replay(ReadOnlySpan<Tensor> inputs, Optimizer optimizer)
    {
        Compiled.Executor.Run(inputs, _outputs, intoOutputs: true);
        foreach (var (buffer, value) in _stateWrites)
        {
            if (buffer.IsContiguous) value.RawBytes().CopyTo(buffer.RawBytes());
            else Ops.Dispatcher.CopyInto(value, buffer);
            buffer.BumpVersion();
        }
        Update(optimizer);
    }

    /// <summary>
    /// Clips the gradients in the buffers if the step was compiled to, then lets the optimizer update the
    /// parameters with them (also after a traced step, whose eager results were adopted).
    /// </summary>
    internal void Update(Optimizer optimizer)
    {
        _clipping?.Apply(_gradients);
        optimizer.StepWith(_gradients);
    }

    public void Dispose()
    {
        Compiled.Dispose();
        foreach (var t in _outputs) t?.Dispose();
    }
}
