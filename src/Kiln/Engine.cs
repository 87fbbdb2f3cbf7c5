using Kiln.Autograd;
using Kiln.Compile;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln;

/// <summary>
/// Kiln's process-wide entry points: memory scopes, gradient modes, autograd over several tensors,
/// random seeding and memory statistics. (A static class cannot share the namespace's name, so this
/// is the one home for what PyTorch puts on <c>torch.</c>.)
/// </summary>
public static class Engine
{
    /// <summary>Starts a scope that disposes the tensors created inside it when it ends (see <see cref="TensorScope"/>).</summary>
    public static TensorScope Scope() => new();

    /// <summary>Turns gradient tracking off on this thread until the returned scope is disposed.</summary>
    public static GradModeScope NoGrad() => new(enabled: false);

    /// <summary>Turns gradient tracking on on this thread until the returned scope is disposed.</summary>
    public static GradModeScope EnableGrad() => new(enabled: true);

    /// <summary>Whether operations on this thread are recorded for autograd.</summary>
    public static bool IsGradEnabled => GradMode.IsEnabled;

    /// <summary>
    /// Anomaly mode: every op checks its output and every backward function its gradients for NaN and
    /// infinity, and the error names the op. Slow; for debugging.
    /// </summary>
    public static GradModeScope DetectAnomaly(bool enabled = true) => new(enabled, false);

    /// <summary>
    /// Gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/>, without touching
    /// any <see cref="Tensor.Grad"/>. With <paramref name="createGraph"/> the result is itself
    /// differentiable (for higher-order gradients).
    /// </summary>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null,
        bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
        => BackwardEngine.Grad(outputs, inputs, gradOutputs ?? [], retainGraph ?? createGraph, createGraph, allowUnused);

    /// <summary>Gradient of one output with respect to one input.</summary>
    public static Tensor Grad(Tensor output, Tensor input, bool createGraph = false)
        => BackwardEngine.Grad([output], [input], [], createGraph, createGraph, allowUnused: false)[0]!;

    /// <summary>
    /// Seeds the random stream every random op draws from (Rand, Randn, RandInt, dropout, ...) and
    /// restarts it, so the same seed and the same sequence of ops give the same values, whatever the
    /// thread count.
    /// </summary>
    public static void ManualSeed(ulong seed) => RandomState.Seed(seed);

    /// <summary>
    /// Where the random stream is now (PyTorch's <c>get_rng_state</c>): restoring it with
    /// <see cref="SetRngState"/> makes the ops that follow draw the same values again, which is how a
    /// resumed training run repeats an uninterrupted one bit for bit.
    /// </summary>
    public static RngState GetRngState() => RandomState.Get();

    /// <summary>Puts the random stream back to <paramref name="state"/> (from <see cref="GetRngState"/>).</summary>
    public static void SetRngState(RngState state) => RandomState.Set(state);

    /// <summary>
    /// Compiles <paramref name="function"/> into a graph for fast, allocation-free inference: the first
    /// call with a new input signature traces it (and returns the eager results), later calls replay
    /// the optimized graph without running the C# code. See <see cref="CompiledFunction"/> for what
    /// tracing freezes.
    /// </summary>
    public static CompiledFunction Compile(Func<Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new CompiledFunction("function", inputs => [function(inputs[0])], inputCount: 1, module: null);
    }

    /// <summary>Compiles a two-input function (see <see cref="Compile(Func{Tensor, Tensor})"/>).</summary>
    public static CompiledFunction Compile(Func<Tensor, Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new CompiledFunction("function", inputs => [function(inputs[0], inputs[1])], inputCount: 2, module: null);
    }

    /// <summary>Compiles a function of any number of inputs and outputs; call it with <see cref="CompiledFunction.Invoke"/>.</summary>
    public static CompiledFunction Compile(Func<Tensor[], Tensor[]> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new CompiledFunction("function", function, inputCount: -1, module: null);
    }

    /// <summary>
    /// Compiles <paramref name="module"/>'s forward pass. Its parameters and buffers become named graph
    /// inputs read at every call (training the module eagerly keeps the compiled one current), and its
    /// training mode is part of the signature: compile a model in <see cref="Module.Eval"/> mode for inference.
    /// </summary>
    public static CompiledFunction Compile(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new CompiledFunction(module.GetType().Name, inputs => [module.Call(inputs[0])], inputCount: 1, module);
    }

    /// <summary>
    /// Loads a compiled graph saved with <c>compiled.Save("model.kiln")</c> (see <see cref="KilnGraphFile"/>):
    /// it runs with only the Kiln assembly, without the code or module classes that built it.
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not a valid .kiln file.</exception>
    public static CompiledFunction Load(string path) => KilnGraphFile.Load(path);

    /// <summary>
    /// Loads a <c>.kiln</c> file with <paramref name="options"/>: frozen weights (folded and pre-packed for
    /// serving) and a dynamic batch dimension (any batch size; the file saved at 2 or more). See
    /// <see cref="KilnGraphFile.Load(string, CompileOptions)"/>.
    /// </summary>
    public static CompiledFunction Load(string path, CompileOptions options) => KilnGraphFile.Load(path, options);

    /// <summary>
    /// Compiles <paramref name="module"/>'s forward pass with <paramref name="options"/>: frozen parameters
    /// (read once, so batch norm folds into the layer before it) and a dynamic batch dimension (a new
    /// batch size reuses the traced graph). See <see cref="Compile(Module)"/>.
    /// </summary>
    public static CompiledFunction Compile(Module module, CompileOptions options)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(options);
        return new CompiledFunction(module.GetType().Name, inputs => [module.Call(inputs[0])], inputCount: 1, module, options);
    }

    /// <summary>Compiles a one-input function with <paramref name="options"/> (see <see cref="Compile(Module, CompileOptions)"/>).</summary>
    public static CompiledFunction Compile(Func<Tensor, Tensor> function, CompileOptions options)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(options);
        return new CompiledFunction("function", inputs => [function(inputs[0])], inputCount: 1, module: null, options);
    }

    /// <summary>
    /// Compiles a whole training step of <paramref name="model"/> (PyTorch's compiled training loop,
    /// Keras's <c>train_on_batch</c> in graph mode): <c>step.Step(x, y)</c> runs the forward pass, the
    /// <paramref name="loss"/> (a per-sample loss is averaged), the backward pass and
    /// <paramref name="optimizer"/>'s update as one planned graph, and returns the loss. The first step
    /// of each input signature traces (and is a real step); later ones replay without allocating. A model
    /// of several inputs or outputs (<see cref="IMultiInputModel"/>) takes <c>Step(inputs, targets)</c>
    /// and its loss is the sum over the outputs. See <see cref="CompiledStep"/> for what is refused.
    /// </summary>
    public static CompiledStep CompileStep(Module model, Loss loss, Optimizer optimizer) => CompileStep(model, loss, optimizer, new CompileStepOptions());

    /// <summary>
    /// <see cref="CompileStep(Module, Loss, Optimizer)"/> with <paramref name="options"/>: gradient clipping
    /// by norm or by value between the backward pass and the update, inside the compiled step.
    /// </summary>
    public static CompiledStep CompileStep(Module model, Loss loss, Optimizer optimizer, CompileStepOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string name = model.GetType().Name + " step";
        if (model is IMultiInputModel multi)
        {
            int inputs = multi.InputCount, outputs = multi.OutputCount;
            return new CompiledStep(name, arguments =>
            {
                var results = multi.Forward(arguments[..inputs]);
                if (results is null || results.Length != outputs)
                    throw new KilnException($"{model.GetType().Name}: Forward returned {results?.Length ?? 0} outputs, but the model declares {outputs}");
                Tensor total = ScalarLoss(loss(results[0], arguments[inputs]));
                for (int k = 1; k < outputs; k++) total += ScalarLoss(loss(results[k], arguments[inputs + k]));
                return [total];
            }, inputs, outputs, model, optimizer, options);
        }
        return new CompiledStep(name, arguments => [ScalarLoss(loss(model.Call(arguments[0]), arguments[1]))], 1, 1, model, optimizer, options);
    }

    /// <summary>A loss of one value per sample ([N]) averaged, as Fit does; a scalar as it is.</summary>
    private static Tensor ScalarLoss(Tensor value) => value.Rank == 1 ? value.Mean() : value;

    /// <summary>
    /// Starts timing every op until the returned profiler is disposed (torch.profiler): eager ops and their
    /// backward, compiled graphs' nodes, optimizer updates. <c>profiler.Table()</c> lists them by total time;
    /// with <paramref name="recordShapes"/> each input-shape combination is its own row.
    /// <code>
    /// using (var profile = Engine.Profile()) step.Step(x, y);
    /// Console.WriteLine(profile.Table());
    /// </code>
    /// </summary>
    public static Profiler Profile(bool recordShapes = false) => Profiler.Start(recordShapes);

    /// <summary>Memory held by tensors, cached for reuse, and the peak since start or <see cref="ResetPeakMemory"/>.</summary>
    public static MemoryStats MemoryStats() => MemoryPool.Stats();

    /// <summary>Starts a new peak measurement at the current usage.</summary>
    public static void ResetPeakMemory() => MemoryPool.ResetPeak();

    /// <summary>Frees the cached (unused) tensor memory back to the operating system.</summary>
    public static void EmptyCache() => MemoryPool.Trim();
}
