using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.IO;

/// <summary>
/// Saves a whole model in one file, as Keras's <c>model.save("m.keras")</c> does: its architecture,
/// its weights, and optionally its optimizer, so a model can be loaded without the code that built
/// it and its training resumed. The file (conventionally <c>*.kilnmodel</c>) is a zip archive,
/// written atomically, with the entries
/// <list type="bullet">
/// <item><c>config.json</c>: the format and its version, the dtype, the module tree (each layer's
/// type and constructor settings, containers with their named children, a functional
/// <see cref="Model"/> with its inputs, layer calls and outputs), the frozen parameters,
/// and when an optimizer is saved its type, default hyper-parameters and parameter groups (by
/// parameter name), and for a compiled model its loss (when a built-in one) and its metrics' names;</item>
/// <item><c>model.safetensors</c>: the state dict (<see cref="Module.StateDict"/>);</item>
/// <item><c>optimizer.safetensors</c>: the optimizer's state in <see cref="OptimizerStateDict"/>'s flat form, when saved.</item>
/// </list>
/// Only Kiln's built-in layers, merge layers and containers can be saved this way (a fixed registry: loading a
/// file builds those types and nothing else, and never runs code the file names); a model with a
/// module of its own type is refused, with the advice to save its weights with
/// <see cref="ModuleWeights.SaveWeights"/> and rebuild it in code. A compiled model loaded with its
/// optimizer (<see cref="Load(string, out Optimizer?)"/>) is compiled again with that optimizer and its
/// loss when the loss is a built-in one (<c>Losses.CrossEntropy</c>, ...), so <c>Fit</c> continues
/// at once; metrics are objects with settings a file does not rebuild, so they are not restored
/// (config.json keeps their names): call <c>model.Compile(optimizer, loss, metrics)</c> to add them,
/// as for a model compiled with a loss of its own.
/// <para>
/// The loader lives here rather than as <c>Model.Load</c> (Keras's <c>keras.models.load_model</c>):
/// Kiln.Models sits below Kiln.IO in the layering and cannot read files, and the loaded model is any
/// <see cref="Module"/> (a <see cref="Sequential"/> as often as a functional <see cref="Model"/>).
/// </para>
/// </summary>
public static class SavedModel
{
    internal const string ConfigEntry = "config.json";
    internal const string ModelEntry = "model.safetensors";
    internal const string OptimizerEntry = "optimizer.safetensors";

    // config.json of a real model is kilobytes; this bounds what a hostile one may make the parser hold.
    private const long MaxConfigBytes = 64L << 20;

    private static readonly string[] Entries = [ConfigEntry, ModelEntry, OptimizerEntry];

    /// <summary>
    /// Saves <paramref name="model"/> to <paramref name="path"/> atomically (the old file, if any, stays
    /// whole until the new one is complete). The optimizer saved is <paramref name="optimizer"/>, else
    /// the one <c>model.Compile(...)</c> gave it, else none.
    /// </summary>
    /// <exception cref="ArgumentException">The model holds a module that is not a built-in layer (the message names its path and type), or the optimizer is not one of Kiln's or optimizes tensors outside the model.</exception>
    public static void Save(this Module model, string path, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var trainer = Trainer.Find(model);
        optimizer ??= trainer?.Optimizer;
        var state = model.StateDict();
        OptimizerStateDict? optimizerState = null;
        try
        {
            var config = SavedModelConfig.Write(model, state, optimizer, trainer);
            optimizerState = optimizer?.StateDict();
            var entries = new List<(string, Action<Stream>)>
            {
                (ConfigEntry, s => s.Write(config)),
                (ModelEntry, s => Safetensors.Write(s, state)),
            };
            if (optimizerState is not null)
                entries.Add((OptimizerEntry, s => Safetensors.Write(s, optimizerState.FlatTensors(), optimizerState.FlatMetadata())));
            AtomicFile.Write(path, stream => KilnArchive.Write(stream, entries));
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
            optimizerState?.Dispose();
        }
    }

    /// <summary>Throws the <see cref="ArgumentException"/> that <see cref="Save"/> would for <paramref name="model"/>, without writing anything.</summary>
    internal static void CheckSavable(Module model, Optimizer? optimizer)
    {
        var state = model.StateDict();
        try { SavedModelConfig.Write(model, state, optimizer, null); }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Loads the model saved at <paramref name="path"/>: the modules are built from the registry of
    /// built-in layers and the weights loaded, in training mode as a newly built model is. Building
    /// leaves the global random stream as it found it.
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not a valid saved model: every entry, field and tensor is checked before it is used, and the message names what was wrong.</exception>
    public static Module Load(string path) => Load(path, withOptimizer: false, out _);

    /// <summary>
    /// Loads the model saved at <paramref name="path"/> as <see cref="Load(string)"/> does, and the
    /// optimizer saved with it, rebuilt over the loaded model's parameters with its state, so that
    /// training continues where it stopped; <paramref name="optimizer"/> is null when none was saved.
    /// With an optimizer and a built-in loss in the file, the model comes back compiled with them.
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not a valid saved model.</exception>
    public static Module Load(string path, out Optimizer? optimizer) => Load(path, withOptimizer: true, out optimizer);

    private static Module Load(string path, bool withOptimizer, out Optimizer? optimizer)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Load(file, $"saved model '{path}'", withOptimizer, out optimizer);
    }

    /// <summary>Loads a saved model from <paramref name="stream"/> (seekable, the whole file); <paramref name="source"/> begins every error message.</summary>
    internal static Module Load(Stream stream, string source, bool withOptimizer, out Optimizer? optimizer)
    {
        using var archive = KilnArchive.Open(stream, source, Entries);
        var plan = SavedModelConfig.Read(archive.ReadBytes(ConfigEntry, MaxConfigBytes), source);
        if (plan.Optimizer is not null && !archive.Has(OptimizerEntry))
            throw new KilnFormatException($"{source}: config.json describes an optimizer, but the archive has no {OptimizerEntry}");

        Module model;
        using (var weights = archive.ReadSafetensors(ModelEntry))
        {
            CheckWeights(plan, weights, $"{source}: {ModelEntry}");
            model = Build(plan, source);
            CheckBuilt(plan, model, source);
            model.LoadStateDict(weights.Tensors);
        }
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.NamedParameters()) parameters[name] = parameter;
        foreach (var name in plan.Frozen)
            if (parameters.TryGetValue(name, out var parameter)) parameter.RequiresGrad = false;

        optimizer = withOptimizer && plan.Optimizer is not null ? LoadOptimizer(plan.Optimizer, model, archive, source) : null;
        if (optimizer is not null && plan.Loss is { } loss) Trainer.Compile(model, optimizer, LossNames.Named(loss)!, null);
        return model;
    }

    // Every tensor the plan expects, with its shape and dtype, and nothing else: checked before any
    // module is built, so the model allocates no more than the file holds.
    private static void CheckWeights(ModelPlan plan, SafetensorsData weights, string source)
    {
        foreach (var (name, slot) in plan.State)
        {
            if (!weights.Tensors.TryGetValue(name, out var tensor))
                throw new KilnFormatException($"{source}: the model has the tensor \"{name}\" ({Shape.Format(slot.Shape)}), which the file lacks");
            var dtype = slot.Floating ? plan.DType : DType.Int64;
            if (!slot.Shape.AsSpan().SequenceEqual(tensor.ShapeArray) || tensor.DType != dtype)
                throw new KilnFormatException($"{source}: tensor \"{name}\" is {tensor.Shape} {tensor.DType.Name()}; the model's is {Shape.Format(slot.Shape)} {dtype.Name()}");
        }
        foreach (var name in weights.Tensors.Keys)
            if (!plan.State.ContainsKey(name))
                throw new KilnFormatException($"{source}: the file has the tensor {ConfigObject.Quote(name)}, which the model described in config.json does not have");
    }

    // The built model must have the state the plan promised (a backstop: the plan is checked field by field).
    private static void CheckBuilt(ModelPlan plan, Module model, string source)
    {
        var state = model.StateDict();
        try
        {
            bool same = state.Count == plan.State.Count;
            foreach (var (name, tensor) in state)
                same &= plan.State.TryGetValue(name, out var slot) && slot.Shape.AsSpan().SequenceEqual(tensor.ShapeArray);
            if (!same)
                throw new KilnFormatException($"{source}: config.json: the model built from it has the tensors {string.Join(", ", state.Keys)}, not those its description gives ({string.Join(", ", plan.State.Keys)})");
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static Module Build(ModelPlan plan, string source)
    {
        // The weights replace the layers' initial values, so the initializers draw nothing: loading a model
        // does not shift what a seeded run (on any thread) draws next.
        try
        {
            using (Init.Skipping()) return plan.Build();
        }
        catch (ArgumentException e)
        {
            // The configuration was checked field by field; a layer's constructor refusing it anyway is still the file's fault.
            throw new KilnFormatException($"{source}: config.json: a layer refused its settings: {e.Message}");
        }
    }

    private static Optimizer LoadOptimizer(OptimizerPlan plan, Module model, KilnArchive archive, string source)
    {
        Optimizer optimizer;
        try
        {
            optimizer = OptimizerConfig.Create(plan, model, $"{source}: config.json: optimizer");
        }
        catch (ArgumentException e)
        {
            throw new KilnFormatException($"{source}: config.json: optimizer: {e.Message}");
        }
        try
        {
            using var data = archive.ReadSafetensors(OptimizerEntry);
            try
            {
                optimizer.LoadStateDict(OptimizerStateDict.FromFlat(data.Tensors, data.Metadata));
            }
            catch (KilnException e)
            {
                throw new KilnFormatException($"{source}: {OptimizerEntry}: {e.Message}");
            }
            return optimizer;
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }
}
