namespace Kiln.NN;

public abstract partial class Module
{
    // Lazy layers build once each, so one lock for all of them costs nothing and keeps two threads
    // calling the same new layer from creating two sets of parameters.
    private static readonly object LazyBuildLock = new();

    // The dtype To() asked for while this lazy layer had no parameters; they are converted to it when built.
    private DType _lazyDType = DType.Float32;

    // Set by a lazy constructor, cleared once the parameters exist (after they are stored, so a
    // thread that reads false also sees them).
    private volatile bool _awaitsInput;

    /// <summary>
    /// Whether every layer in this module's tree has its parameters (Keras's <c>model.built</c>):
    /// false while a lazy layer such as <c>new Linear(10)</c> has not yet seen an input. A lazy layer
    /// is built by its first call, by <see cref="Build(int[])"/>, or by <see cref="LoadStateDict"/>;
    /// create an optimizer over <see cref="Parameters"/> only once the model is built, since an
    /// unbuilt layer has no parameters to give it.
    /// </summary>
    public bool IsBuilt
    {
        get
        {
            foreach (var m in Modules())
                if (m.AwaitsInput) return false;
            return true;
        }
    }

    /// <summary>
    /// Builds the lazy layers of this module by running it once on zeros of shape [1, ..<paramref name="inputShape"/>]
    /// (the shape of one sample, without the batch dimension), in evaluation mode and without
    /// gradients; the training mode is restored and batch-norm running statistics are left as they
    /// were. The weights are drawn from the random stream as the eager constructors draw them.
    /// Returns this module, so <c>var opt = new Adam(model.Build(1, 28, 28).Parameters())</c> reads
    /// in one line.
    /// </summary>
    public Module Build(params int[] inputShape) => Build(inputShape, DType.Float32);

    /// <summary>Builds the lazy layers as <see cref="Build(int[])"/> does, on an input of <paramref name="dtype"/> (int64 for an <see cref="Embedding"/>).</summary>
    public Module Build(int[] inputShape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        using var scope = Engine.Scope();
        RunInEvaluation(() => Call(SampleBatch(inputShape, dtype)));
        return this;
    }

    /// <summary>Zeros of shape [1, ..<paramref name="sampleShape"/>]: the batch of one a dry run feeds a model.</summary>
    internal static Tensor SampleBatch(int[] sampleShape, DType dtype)
    {
        foreach (var d in sampleShape)
            if (d <= 0) throw new ArgumentException($"an input shape must have positive dimensions (without the batch dimension), got {Shape.Format(sampleShape)}", nameof(sampleShape));
        return Tensor.Zeros([1, .. sampleShape], dtype);
    }

    /// <summary>
    /// Runs <paramref name="run"/> with this module's tree in evaluation mode and gradients off, then
    /// puts every module's training flag back as it was (a dry run: no running statistics move, no
    /// dropout draws).
    /// </summary>
    internal T RunInEvaluation<T>(Func<T> run)
    {
        var modes = TrainingModes.Capture(this);
        try
        {
            Eval();
            using (Engine.NoGrad()) return run();
        }
        finally
        {
            modes.Restore();
        }
    }

    // ---- what a lazy layer overrides ----

    /// <summary>True for a lazy layer whose input size is not known yet, so it has no parameters.</summary>
    private protected bool AwaitsInput => _awaitsInput;

    /// <summary>Marks a layer made by a lazy constructor: it builds itself on its first input (<see cref="BuildOnce"/>).</summary>
    private protected void DeferBuild() => _awaitsInput = true;

    /// <summary>
    /// Creates the parameters and buffers of a lazy layer for an input of <paramref name="inputSize"/>
    /// features or channels: drawn as the eager constructor draws them when <paramref name="initialize"/>,
    /// left at zeros (and running statistics at their defaults) when a state dict will fill them.
    /// </summary>
    private protected virtual void Materialize(int inputSize, bool initialize)
        => throw new InvalidOperationException($"{TypeName} is not a lazy layer");

    /// <summary>Forgets what <see cref="Materialize"/> created (a failed LoadStateDict undoes its builds with it).</summary>
    private protected virtual void Unmaterialize()
    {
    }

    /// <summary>Makes a layer built from a state dict lazy again, for a load that failed after building it.</summary>
    private void Unbuild()
    {
        Unmaterialize();
        _awaitsInput = true;
    }

    /// <summary>The member whose shape in a state dict gives a lazy layer's input size ("weight"), or null when the layer saves nothing.</summary>
    private protected virtual string? SizeMember => null;

    /// <summary>The input size a saved <see cref="SizeMember"/> of <paramref name="shape"/> gives, or 0 when that shape does not fit this layer.</summary>
    private protected virtual int InputSizeFromSaved(int[] shape) => 0;

    /// <summary>The shape a saved <see cref="SizeMember"/> must have, in words, for error messages ("[10, in_features]").</summary>
    private protected virtual string SizeMemberShape => "";

    /// <summary>
    /// Builds this lazy layer for <paramref name="inputSize"/> unless it is built already: once, under
    /// a lock, without recording gradients, with the parameters taken out of every scope, and
    /// converted to the dtype an earlier <see cref="To"/> asked for, and outside any trace. Call it
    /// from Forward before the input checks.
    /// </summary>
    private protected void BuildOnce(int inputSize)
    {
        lock (LazyBuildLock)
        {
            if (!AwaitsInput) return;
            if (inputSize <= 0) throw InputError($"cannot build the lazy layer from an input of size {inputSize}");
            // A first call being traced (Engine.Compile) builds the layer for real: its parameters
            // are drawn here, outside the graph, and the graph reads them as parameters.
            using (Kiln.Ops.TraceRecorder.Suspend())
            using (Engine.NoGrad())
                Materialize(inputSize, initialize: true);
            if (_lazyDType != DType.Float32) To(_lazyDType);
            _awaitsInput = false;
        }
    }

    /// <summary>
    /// Builds a lazy convolution for an input of <paramref name="channels"/> channels (as
    /// <see cref="BuildOnce"/>), refusing a count its <paramref name="groups"/> do not divide.
    /// </summary>
    private protected void BuildForChannels(int channels, int groups, Tensor input)
    {
        if (channels % groups != 0) throw InputError($"input has {channels} channels, which the {groups} groups do not divide (input {input.Shape})");
        BuildOnce(channels);
    }

    /// <summary>
    /// A new weight of <paramref name="weightShape"/> and bias of <paramref name="biasSize"/> (none when
    /// null), drawn as Linear and the convolutions draw them (KaimingUniform, a = √5) when
    /// <paramref name="initialize"/>, zeros otherwise.
    /// </summary>
    private protected static (Tensor Weight, Tensor? Bias) NewWeightAndBias(int[] weightShape, int? biasSize, bool initialize)
    {
        var weight = NewParameter(weightShape);
        var bias = biasSize is { } n ? NewParameter(n) : null;
        if (initialize) Init.LayerDefault(weight, bias);
        return (weight, bias);
    }

    /// <summary>
    /// The error for reading a parameter of a lazy layer that has none yet, naming the layer and how to build it.
    /// </summary>
    private protected KilnException NotBuiltError(string member)
        => new($"{Location}: {member} does not exist yet; a lazy layer creates its parameters on its first call. Call the model once (or model.Build(inputShape)) before reading parameters or creating an optimizer");

    /// <summary>Records <paramref name="dtype"/> on every unbuilt lazy layer of the tree, so To() before the first call is not lost.</summary>
    private void RecordLazyDType(DType dtype)
    {
        foreach (var m in Modules())
            if (m.AwaitsInput) m._lazyDType = dtype;
    }

    /// <summary>
    /// Builds every unbuilt lazy layer of the tree from the shapes in <paramref name="stateDict"/>
    /// (as PyTorch's lazy modules load), without drawing random numbers: the values are copied in
    /// next. A layer whose key is absent is left lazy and its key reported missing; a shape that does
    /// not fit is reported as a mismatch. Returns the layers built, so a failed load can undo them.
    /// </summary>
    private List<Module> BuildLazyFromState(IReadOnlyDictionary<string, Tensor> stateDict, List<string> missing, List<string> mismatched)
    {
        var built = new List<Module>();
        foreach (var (prefix, module) in NamedModules())
        {
            if (!module.AwaitsInput || module.SizeMember is not { } member) continue;
            var key = Join(prefix, member);
            if (!stateDict.TryGetValue(key, out var saved) || saved is null)
            {
                missing.Add(key);
                continue;
            }
            int size = saved.IsDisposed ? 0 : module.InputSizeFromSaved(saved.ShapeArray);
            if (size <= 0)
            {
                var shape = saved.IsDisposed ? "a disposed tensor" : $"shape {saved.Shape}";
                mismatched.Add($"size mismatch for {key}: the state dict has {shape}, the model's {module.TypeName} takes {module.SizeMemberShape}");
                continue;
            }
            lock (LazyBuildLock)
            {
                using (Engine.NoGrad()) module.Materialize(size, initialize: false);
                if (module._lazyDType != DType.Float32) module.To(module._lazyDType);
                module._awaitsInput = false;
            }
            built.Add(module);
        }
        return built;
    }
}
