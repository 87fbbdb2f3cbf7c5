using Kiln.Autograd;
using Kiln.NN;
using Kiln.Ops;
using Kiln.Optim;

namespace Kiln.Compile;

/// <summary>
/// Traces one training step into a graph. The step function runs eagerly with gradients on while the
/// tracer records, so the forward ops are recorded as they run; then the autograd tape's backward walk
/// runs while the tracer still records, and since every op's backward rule is written with ops that go
/// through the dispatcher, the backward pass lands in the same graph. The gradients of the optimizer's
/// parameters become graph outputs, after the loss; module buffers written in place (BatchNorm's
/// running statistics) follow, then the step function's extra results. Rand and Randn become random
/// nodes (drawn again at each replay). The traced call is a real step: its eager gradients update the
/// parameters. When the trace is refused (a value read into C#, a draw other than Rand and Randn, a
/// write the graph cannot express), the module's buffers and the random stream are put back
/// as they were, no parameter has changed, and the error names what was refused.
/// </summary>
internal static class TrainingStepTracer
{
    internal static TrainingStepPlan Trace(string name, Func<Tensor[], Tensor[]> function, Tensor[] arguments,
        Module? module, Optimizer optimizer, bool training, CompileStepOptions? clipping)
    {
        var parameters = optimizer.AllParameters();
        if (parameters.Length == 0)
            throw new KilnException($"{name}: the optimizer has no parameters; pass them to its constructor or to AddParamGroup before compiling the step");
        var buffers = SavedBuffers(module);
        var rng = RandomState.Get();
        try
        {
            using var scope = Engine.Scope();
            return TraceAndStep(name, function, arguments, module, optimizer, training, parameters, clipping);
        }
        catch
        {
            RandomState.Set(rng);
            foreach (var (buffer, copy) in buffers)
                if (!buffer.IsDisposed) Dispatcher.CopyInto(copy, buffer);
            throw;
        }
        finally
        {
            foreach (var (_, copy) in buffers) copy.Dispose();
        }
    }

    private static TrainingStepPlan TraceAndStep(string name, Func<Tensor[], Tensor[]> function, Tensor[] arguments,
        Module? module, Optimizer optimizer, bool training, Tensor[] parameters, CompileStepOptions? clipping)
    {
        var tracer = new GraphTracer(name, module is null ? null : () => ModuleStateNames.Of(module)) { AllowStateWrites = true, AllowRandomDraws = true };
        foreach (var argument in arguments) tracer.AddInput(argument);

        var wrt = new List<int>();
        for (int i = 0; i < parameters.Length; i++)
            if (parameters[i].RequiresGrad) wrt.Add(i);
        if (wrt.Count == 0)
            throw new KilnException($"{name}: none of the optimizer's {parameters.Length} parameters requires grad, so the step has nothing to train");

        Tensor[] results;
        Tensor?[] gradients;
        var outer = TraceRecorder.Current;
        TraceRecorder.Current = tracer;
        try
        {
            using (new GradModeScope(enabled: true))
                results = function(arguments) ?? throw new KilnException($"{name}: the step function returned null");
            if (results.Length == 0 || results[0] is null) throw new KilnException($"{name}: the step function returned no loss");
            var loss = results[0];
            if (loss.NumElements != 1 || !loss.DType.IsFloatingPoint())
                throw new KilnShapeException($"{name}: the loss must be one floating-point value, got {GraphPrinter.Spec(TensorSpec.Of(loss))}; reduce it (Mean, Sum) in the loss");
            if (!loss.RequiresGrad)
                throw new KilnException($"{name}: the loss does not depend on any parameter that requires grad, so there is nothing to differentiate");
            var targets = new Tensor[wrt.Count];
            for (int j = 0; j < targets.Length; j++) targets[j] = parameters[wrt[j]];
            gradients = BackwardEngine.Grad([loss], targets, [], retainGraph: false, createGraph: false, allowUnused: true);
        }
        finally
        {
            TraceRecorder.Current = outer;
        }

        var outputs = new List<Tensor> { results[0] };
        var gradientOf = new List<int>();
        var byIndex = new Tensor?[parameters.Length];
        for (int j = 0; j < wrt.Count; j++)
        {
            if (gradients[j] is not { } g) continue;
            outputs.Add(g);
            gradientOf.Add(wrt[j]);
            byIndex[wrt[j]] = g;
        }
        outputs.AddRange(tracer.WrittenState);
        for (int k = 1; k < results.Length; k++) outputs.Add(results[k]);
        tracer.Finish(outputs.ToArray());

        var (portable, executed) = PassPipeline.Optimize(tracer.Graph, new CompileOptions(), KilnEnvironment.DumpGraphDirectory);
        var compiled = new CompiledGraph(TraceSignature.Of(arguments, gradEnabled: true, training), portable, executed);
        _ = compiled.Executor;
        TrainingStepPlan plan;
        try
        {
            plan = new TrainingStepPlan(compiled, parameters, gradientOf.ToArray(), tracer.WrittenState, results.Length - 1, clipping);
        }
        catch
        {
            compiled.Dispose();
            throw;
        }
        plan.Adopt(results[0], byIndex, results.AsSpan(1));
        plan.Update(optimizer);
        return plan;
    }

    /// <summary>Copies of the module's buffers, to put back if the trace is refused after an in-place write ran.</summary>
    private static List<(Tensor Buffer, Tensor Copy)> SavedBuffers(Module? module)
    {
        var saved = new List<(Tensor, Tensor)>();
        if (module is null) return saved;
        foreach (var (_, buffer) in module.NamedBuffers())
        {
            var copy = Tensor.Empty(buffer.ShapeArray, buffer.DType).DetachFromScope();
            Dispatcher.CopyInto(buffer, copy);
            saved.Add((buffer, copy));
        }
        return saved;
    }
}
