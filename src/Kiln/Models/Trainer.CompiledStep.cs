using Kiln.Compile;

namespace Kiln.Models;

// Fit's compiled training step: forward, loss, backward and the optimizer update replayed as one plan,
// with the eager step kept for debugging (RunEagerly) and as the fallback for steps that do not compile.
public sealed partial class Trainer
{
    private CompiledStep? _step;
    private Tensor[]? _stepArguments;
    private bool _stepRefused;

    /// <summary>
    /// Whether Fit runs each batch eagerly (forward, Backward, optimizer step through the autograd tape),
    /// as Keras's <c>run_eagerly</c>: for debugging, breakpoints and prints inside Forward. False by
    /// default: Fit compiles the training step (see <see cref="CompiledStep"/>) and replays it, the
    /// same arithmetic without per-op dispatch or allocation (Dropout's masks are drawn from the same
    /// random stream). A step that cannot compile (a loss or layer that reads a value into C#, RandInt)
    /// falls back to eager, with one warning line when Fit is verbose.
    /// </summary>
    public bool RunEagerly { get; set; }

    /// <summary>
    /// Fit scales the gradients of each batch so that their total 2-norm is at most this before the
    /// optimizer's update (Keras's <c>global_clipnorm</c>, PyTorch's <c>clip_grad_norm_</c>); null: no clipping.
    /// Compiled and eager steps clip alike.
    /// </summary>
    public double? ClipGradNorm { get; set; }

    /// <summary>
    /// Fit clamps every gradient element to [−value, value] before the update (Keras's <c>clipvalue</c>,
    /// PyTorch's <c>clip_grad_value_</c>), before norm clipping when both are set; null: no clipping.
    /// </summary>
    public double? ClipGradValue { get; set; }

    /// <summary>The clipping of the Fit running now, read from the properties at its start.</summary>
    private CompileStepOptions _clipping = new();

    private CompileStepOptions StepOptions() => new() { ClipGradNorm = ClipGradNorm, ClipGradValue = ClipGradValue };

    /// <summary>The eager step's clipping, between Backward and the update, as the compiled step does it.</summary>
    private void ClipEagerGradients()
    {
        var options = _clipping;
        if (options.ClipGradValue is null && options.ClipGradNorm is null) return;
        var parameters = Optimizer.AllParameters();
        if (options.ClipGradValue is { } value) Optim.GradClip.ClipGradValue(parameters, value);
        if (options.ClipGradNorm is { } norm) Optim.GradClip.ClipGradNorm(parameters, norm, options.NormType);
    }

    /// <summary>How many times the current or last Fit traced its training step (0 when it ran eagerly).</summary>
    internal int StepTraceCount { get; private set; }

    /// <summary>Prepares a compiled step for this Fit's loss settings (or none when running eagerly).</summary>
    private void BeginCompiledSteps(Loss? perSample, ClassWeights? weights, int inputCount, int targetCount)
    {
        EndCompiledSteps();
        _stepRefused = false;
        StepTraceCount = 0;
        if (RunEagerly) return;
        _stepArguments = new Tensor[inputCount + targetCount];
        _step = new CompiledStep(Model.GetType().Name + " training step", arguments =>
        {
            var inputs = arguments[..inputCount];
            var targets = arguments[inputCount..];
            var outputs = Forward(inputs);
            var value = BatchLoss(outputs, targets, inputs[0].Size(0), perSample, weights);
            return [value, .. outputs];
        }, inputCount, targetCount, Model, Optimizer, _clipping);
    }

    private void EndCompiledSteps()
    {
        if (_step is not null) StepTraceCount = _step.TraceCount;
        _step?.Dispose();
        _step = null;
        _stepArguments = null;
    }

    /// <summary>
    /// Runs the batch as a compiled step and returns its loss, folding its outputs into the metrics;
    /// null when the step runs eagerly (by choice, or because it was refused: then the warning is written
    /// once at <paramref name="verbose"/> &gt; 0 and nothing of the refused trace remains).
    /// </summary>
    private double? CompiledStep(Tensor[] inputs, Tensor[] targets, int verbose)
    {
        if (_step is null || _stepRefused) return null;
        var arguments = _stepArguments!;
        inputs.CopyTo(arguments, 0);
        targets.CopyTo(arguments, inputs.Length);
        try
        {
            var plan = _step.Run(arguments);
            UpdateMetrics(plan.Extras, targets);
            return plan.Loss.Item();
        }
        catch (KilnException e) when (e is not KilnShapeException)
        {
            _stepRefused = true;
            if (verbose > 0)
                (ProgressOutput ?? Console.Out).WriteLine($"Fit: the training step could not be compiled, so it runs eagerly: {e.Message}");
            return null;
        }
        finally
        {
            Array.Clear(arguments);
        }
    }
}
