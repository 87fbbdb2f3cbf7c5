using Kiln.NN;
using Kiln.Ops;
using Kiln.Optim;

namespace Kiln.Compile;

/// <summary>
/// A whole training step compiled into one plan (made by <c>Engine.CompileStep</c>): the forward pass,
/// the loss, the backward pass (the graph differentiated with the ops' own backward rules) and the
/// optimizer's update. The first step with a new input signature (shapes, dtypes, layouts, the
/// model's training mode) runs eagerly while recording, and is a real step; later steps with that
/// signature replay the graph into planned memory, then run the optimizer's fused update over the
/// gradients: at steady state a step allocates nothing (with <see cref="StepInto(Tensor, Tensor, Tensor)"/>).
/// A new signature (the smaller last batch of an epoch) traces again and is counted in <see cref="TraceCount"/>.
/// <para>
/// The optimizer's hyper-parameters are read at every step, so learning-rate schedules take effect.
/// The model's parameters and buffers are read live, and buffers the step writes in place
/// (BatchNorm's running statistics) are written back after each step as in eager mode. Rand and Randn
/// (Dropout's mask) become random nodes that draw from the global stream at every step, so a compiled
/// run draws exactly what the eager one draws. Otherwise a trace freezes what <c>Engine.Compile</c>
/// freezes; what it cannot express (a value read into C#, RandInt, an in-place write into an input)
/// is refused with an error naming it, with the module's buffers and the random stream put back and no
/// parameter changed. Gradients are
/// not stored in the parameters' <see cref="Tensor.Grad"/>: they live in the step's own buffers, read
/// with <see cref="GradientOf"/>; <see cref="CompileStepOptions"/> clips them before the update.
/// Steps run one at a time.
/// </para>
/// </summary>
public sealed class CompiledStep : IDisposable
{
    private readonly string _name;
    private readonly Func<Tensor[], Tensor[]> _function;
    private readonly Module? _module;
    private readonly Optimizer _optimizer;
    private readonly int _inputCount;
    private readonly int _targetCount;
    private readonly Tensor[] _arguments;
    private readonly CompileStepOptions? _clipping;
    private readonly List<TrainingStepPlan> _plans = new();
    private readonly object _gate = new();
    private TrainingStepPlan? _latest;
    private TrainingStepPlan? _lastRun;
    private bool _disposed;

    /// <param name="name">The step's label in errors and graphs.</param>
    /// <param name="function">Maps the inputs then the targets to the loss, then any extra results (kept in the plan's buffers).</param>
    /// <param name="inputCount">How many model inputs come first.</param>
    /// <param name="targetCount">How many targets follow.</param>
    /// <param name="module">The model, whose parameters and buffers are named and whose training mode is part of the signature; null for a plain function.</param>
    /// <param name="optimizer">The optimizer whose parameters are differentiated and updated.</param>
    /// <param name="clipping">Gradient clipping before each update (null: none).</param>
    internal CompiledStep(string name, Func<Tensor[], Tensor[]> function, int inputCount, int targetCount, Module? module, Optimizer optimizer,
        CompileStepOptions? clipping = null)
    {
        _clipping = clipping is { ClipGradNorm: null, ClipGradValue: null } ? null : clipping;
        _name = name;
        _function = function;
        _inputCount = inputCount;
        _targetCount = targetCount;
        _module = module;
        _optimizer = optimizer;
        _arguments = new Tensor[inputCount + targetCount];
    }

    /// <summary>How many times the step has been traced (once per new input signature): a count that keeps growing means shapes keep changing.</summary>
    public int TraceCount { get; private set; }

    /// <summary>The optimized forward-and-backward graph of the most recent traced signature, as text.</summary>
    public string GraphText
    {
        get
        {
            lock (_gate)
                return _latest?.Compiled.Graph.ToString() ?? throw new InvalidOperationException($"{_name} has not run yet: its graph is traced at the first step");
        }
    }

    /// <summary>
    /// The gradient of <paramref name="parameter"/> (one of the optimizer's) computed by the last step, after
    /// clipping, as the update used it; null before the first step or when the loss does not depend on it.
    /// The tensor belongs to the step and is overwritten by the next one: clone it to keep it.
    /// </summary>
    public Tensor? GradientOf(Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int index = Array.IndexOf(_optimizer.AllParameters(), parameter);
            if (index < 0)
                throw new ArgumentException($"{_name}: the tensor {parameter.Shape} is not one of the optimizer's parameters", nameof(parameter));
            return _lastRun?.Gradient(index);
        }
    }

    /// <summary>
    /// One training step on a batch: forward, loss, backward and the optimizer's update. Returns the
    /// batch's loss as a new 0-d tensor (read it with <c>Item()</c>), as a PyTorch loop's
    /// <c>loss = step(x, y)</c> does; use <see cref="StepInto(Tensor, Tensor, Tensor)"/> to allocate nothing.
    /// </summary>
    public Tensor Step(Tensor input, Tensor target)
    {
        var loss = StepCore(input, target);
        var copy = Tensor.Empty(loss.ShapeArray, loss.DType);
        Dispatcher.CopyInto(loss, copy);
        return copy;
    }

    /// <summary>One training step of a model of several inputs or outputs (one target per output); returns the summed loss.</summary>
    public Tensor Step(Tensor[] inputs, Tensor[] targets)
    {
        var loss = StepCore(inputs, targets);
        var copy = Tensor.Empty(loss.ShapeArray, loss.DType);
        Dispatcher.CopyInto(loss, copy);
        return copy;
    }

    /// <summary>
    /// One training step that writes the loss into <paramref name="loss"/> (a tensor of one element of
    /// the loss's dtype), so a steady stream of steps allocates nothing at all.
    /// </summary>
    public void StepInto(Tensor input, Tensor target, Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        var result = StepCore(input, target);
        if (loss.IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"{_name}: the loss tensor was disposed");
        if (loss.NumElements != 1 || loss.DType != result.DType || !loss.IsContiguous)
            throw new ArgumentException($"{_name}: the loss tensor must be one contiguous {result.DType.Name()} element, got {GraphPrinter.Spec(TensorSpec.Of(loss))}", nameof(loss));
        result.RawBytes().CopyTo(loss.RawBytes());
    }

    /// <summary>Frees the planned memory, gradient buffers and constants of every traced signature.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var p in _plans) p.Dispose();
            _plans.Clear();
            _latest = null;
            _lastRun = null;
            _disposed = true;
        }
    }

    private Tensor StepCore(Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (_inputCount != 1 || _targetCount != 1)
            throw new ArgumentException($"{_name} takes {_inputCount} inputs and {_targetCount} targets; call Step(Tensor[], Tensor[])");
        lock (_gate)
        {
            _arguments[0] = input;
            _arguments[1] = target;
            try
            {
                return Run(_arguments).Loss;
            }
            finally
            {
                Array.Clear(_arguments);
            }
        }
    }

    private Tensor StepCore(Tensor[] inputs, Tensor[] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Length != _inputCount || targets.Length != _targetCount)
            throw new ArgumentException($"{_name} takes {_inputCount} inputs and {_targetCount} targets, got {inputs.Length} and {targets.Length}");
        lock (_gate)
        {
            inputs.CopyTo(_arguments, 0);
            targets.CopyTo(_arguments, _inputCount);
            try
            {
                return Run(_arguments).Loss;
            }
            finally
            {
                Array.Clear(_arguments);
            }
        }
    }

    /// <summary>
    /// Runs one step on <paramref name="arguments"/> (the inputs, then the targets) and returns the plan
    /// that ran, whose loss and extra results hold this step's values until the next step. Fit calls it.
    /// </summary>
    internal TrainingStepPlan Run(Tensor[] arguments)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int i = 0; i < arguments.Length; i++)
            {
                ArgumentNullException.ThrowIfNull(arguments[i], i < _inputCount ? "inputs" : "targets");
                if (arguments[i].IsDisposed)
                    throw new ObjectDisposedException(nameof(Tensor), $"{_name}: {(i < _inputCount ? $"input {i}" : $"target {i - _inputCount}")} was disposed");
            }
            bool training = _module?.IsTraining ?? false;
            if (Find(arguments, training) is { } plan)
            {
                _lastRun = null;
                plan.Replay(arguments, _optimizer);
                return _lastRun = plan;
            }
            return _lastRun = Trace(arguments, training);
        }
    }

    private TrainingStepPlan? Find(ReadOnlySpan<Tensor> arguments, bool training)
    {
        for (int i = 0; i < _plans.Count; i++)
        {
            var plan = _plans[i];
            if (!plan.Signature.Matches(arguments, gradEnabled: true, training)) continue;
            if (!plan.StillValid(_optimizer))
            {
                _plans.RemoveAt(i);
                plan.Dispose();
                if (ReferenceEquals(_latest, plan)) _latest = null;
                if (ReferenceEquals(_lastRun, plan)) _lastRun = null;
                return null;
            }
            if (i > 0)
            {
                _plans.RemoveAt(i);
                _plans.Insert(0, plan);
            }
            return plan;
        }
        return null;
    }

    private TrainingStepPlan Trace(Tensor[] arguments, bool training)
    {
        // One tensor passed twice traces as two inputs (later steps may pass two different tensors).
        var distinct = new Tensor[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
            distinct[i] = Array.IndexOf(distinct, arguments[i], 0, i) >= 0 ? arguments[i].Detach() : arguments[i];
        _lastRun = null;
        var plan = TrainingStepTracer.Trace(_name, _function, distinct, _module, _optimizer, training, _clipping);
        _plans.Insert(0, plan);
        while (_plans.Count > CompiledFunction.MaxSignatures)
        {
            if (ReferenceEquals(_plans[^1], _lastRun)) _lastRun = null;
            _plans[^1].Dispose();
            _plans.RemoveAt(_plans.Count - 1);
        }
        _latest = plan;
        TraceCount++;
        return plan;
    }
}
