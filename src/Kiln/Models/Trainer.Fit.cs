using Kiln.Data;
using Kiln.NN;

namespace Kiln.Models;

// Fit: Keras's training loop on the model, with its callbacks, validation and progress output.
public sealed partial class Trainer
{
    /// <summary>
    /// Trains the model for <paramref name="epochs"/> epochs over the batches of <paramref name="data"/>
    /// (Keras's <c>model.fit</c>): each batch is a forward pass in training mode, the loss, ZeroGrad,
    /// Backward and an optimizer step, and no tensor it makes outlives it. At each epoch's start the
    /// loader's <see cref="DataLoader{TItem, TBatch}.Epoch"/> is set to the epoch, so a resumed run
    /// shuffles as an uninterrupted one. After each epoch, <paramref name="validation"/> (if given) is
    /// evaluated and logged with the "val_" prefix.
    /// </summary>
    /// <param name="data">The training batches (one input and one target each).</param>
    /// <param name="epochs">The epoch to stop before (0-based epochs <paramref name="initialEpoch"/> to epochs - 1 run).</param>
    /// <param name="verbose">0 silent, 1 a progress bar, 2 one line per epoch.</param>
    /// <param name="callbacks">Called at Keras's hooks, in list order (see <see cref="Callback"/>).</param>
    /// <param name="validation">Batches evaluated at each epoch's end, in evaluation mode without gradients.</param>
    /// <param name="classWeight">Weights of classes: each sample's loss is weighted by its class's weight (1 for a class not named), and the batch loss is the weighted mean sum(w·l)/sum(w).</param>
    /// <param name="initialEpoch">The epoch to start at (to resume a run); a callback may move it in OnTrainBegin.</param>
    /// <returns>The History of this Fit: a copy that later Fits leave alone (<see cref="History"/> is the live one, cleared by each Fit).</returns>
    public History Fit(DataLoader data, int epochs = 1, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        DataLoader? validation = null, IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSingleTensorModel("Fit", needsTargets: true);
        using var train = new LoaderBatchSource(data);
        using var val = validation is null ? null : new LoaderBatchSource(validation);
        return Run(train, val, epochs, verbose, callbacks, classWeight, initialEpoch);
    }

    /// <summary>
    /// Trains the model on <paramref name="x"/> and <paramref name="y"/> (samples along the first
    /// dimension) in batches of <paramref name="batchSize"/> (Keras's <c>model.fit(x, y, ...)</c>);
    /// otherwise as <see cref="Fit(DataLoader, int, int, IEnumerable{Callback}?, DataLoader?, IReadOnlyDictionary{int, double}?, int)"/>.
    /// </summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The targets, as many as the inputs.</param>
    /// <param name="batchSize">Samples per batch (the last batch may be smaller).</param>
    /// <param name="epochs">The epoch to stop before.</param>
    /// <param name="verbose">0 silent, 1 a progress bar, 2 one line per epoch.</param>
    /// <param name="callbacks">Called at Keras's hooks, in list order.</param>
    /// <param name="validationSplit">The fraction of the samples, taken from the end before any shuffling (as Keras), held out for validation; ignored when <paramref name="validationData"/> is given.</param>
    /// <param name="validationData">Inputs and targets evaluated at each epoch's end.</param>
    /// <param name="shuffle">Visit the training samples in a new order each epoch, drawn from Kiln's random stream (so <see cref="Engine.ManualSeed"/> makes runs repeat).</param>
    /// <param name="classWeight">Weights of classes for the loss (weighted mean sum(w·l)/sum(w)).</param>
    /// <param name="initialEpoch">The epoch to start at.</param>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        double validationSplit = 0, (Tensor X, Tensor Y)? validationData = null, bool shuffle = true,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        (Tensor[], Tensor[])? validation = validationData is { } v ? ([v.X], [v.Y]) : null;
        return Fit([x], [y], batchSize, epochs, verbose, callbacks, validationSplit, validation, shuffle, classWeight, initialEpoch);
    }

    /// <summary>
    /// Trains a model of several inputs or outputs (a functional <c>Model</c>): <paramref name="x"/> holds
    /// one tensor per input and <paramref name="y"/> one target per output. The loss is the sum over the
    /// outputs of the loss of each output against its target; the metrics are computed on the first
    /// output. Otherwise as <see cref="Fit(Tensor, Tensor, int, int, int, IEnumerable{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, IReadOnlyDictionary{int, double}?, int)"/>.
    /// </summary>
    public History Fit(Tensor[] x, Tensor[] y, int batchSize = 32, int epochs = 1, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        double validationSplit = 0, (Tensor[] X, Tensor[] Y)? validationData = null, bool shuffle = true,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int samples = CheckData("Fit", x, y);
        CheckBatchSize(batchSize);
        if (!(validationSplit >= 0 && validationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "Fit: validationSplit is a fraction in [0, 1)");
        TensorBatchSource train;
        TensorBatchSource? val = null;
        if (validationData is { } validation)
        {
            var (vx, vy) = validation;
            ArgumentNullException.ThrowIfNull(vx, nameof(validationData));
            ArgumentNullException.ThrowIfNull(vy, nameof(validationData));
            int validationSamples = CheckData("Fit (validationData)", vx, vy);
            train = new TensorBatchSource(x, y, samples, batchSize, shuffle);
            val = new TensorBatchSource(vx, vy, validationSamples, batchSize, shuffle: false);
        }
        else if (validationSplit > 0)
        {
            // Keras: the first ceil(n·(1 - split)) samples train, the rest validate.
            int splitAt = (int)Math.Ceiling(samples * (1.0 - validationSplit));
            if (splitAt <= 0 || splitAt >= samples)
                throw new ArgumentException($"Fit: validationSplit {validationSplit} of {samples} samples leaves {splitAt} to train on and {samples - splitAt} to validate on; both need at least one", nameof(validationSplit));
            train = new TensorBatchSource(Rows(x, 0, splitAt), Rows(y, 0, splitAt), splitAt, batchSize, shuffle, ownsTensors: true);
            val = new TensorBatchSource(Rows(x, splitAt, samples - splitAt), Rows(y, splitAt, samples - splitAt), samples - splitAt, batchSize, shuffle: false, ownsTensors: true);
        }
        else
        {
            train = new TensorBatchSource(x, y, samples, batchSize, shuffle);
        }
        using (train)
        using (val)
            return Run(train, val, epochs, verbose, callbacks, classWeight, initialEpoch);
    }

    private static Tensor[] Rows(Tensor[] tensors, int start, int length)
    {
        var views = new Tensor[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) views[i] = tensors[i].Narrow(0, start, length).DetachFromScope();
        return views;
    }

    /// <summary>The training loop over <paramref name="train"/>, validating on <paramref name="validation"/> (or null) after each epoch.</summary>
    private History Run(BatchSource train, BatchSource? validation, int epochs, int verbose, IEnumerable<Callback>? callbacks,
        IReadOnlyDictionary<int, double>? classWeight, int initialEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        CheckVerbose(verbose);
        if (initialEpoch < 0 || initialEpoch > epochs)
            throw new ArgumentOutOfRangeException(nameof(initialEpoch), initialEpoch, $"Fit: initialEpoch must be in [0, epochs = {epochs}]");
        if (train.BatchCount == 0) throw new ArgumentException("Fit: the training data has no batches");
        if (validation is { BatchCount: 0 }) throw new ArgumentException("Fit: the validation data has no batches");
        var weights = classWeight is null ? null : ClassWeights.Create(classWeight);
        if (weights is not null && OutputCount != 1)
            throw new ArgumentException($"Fit: classWeight weights the samples of a single output, but {Model.GetType().Name} returns {OutputCount} outputs", nameof(classWeight));
        var perSample = weights is null ? null : Losses.PerSampleForm(Loss);
        _clipping = StepOptions();
        _clipping.Validate();

        var hooks = new CallbackList(this, "Fit", callbacks);
        var progress = CreateProgress(verbose);
        var modes = TrainingModes.Capture(Model);
        StopTraining = false;
        Epochs = epochs;
        InitialEpoch = initialEpoch;
        Epoch = initialEpoch;
        History.Clear();
        try
        {
            var inputs = new Tensor[train.InputCount];
            var targets = new Tensor[train.TargetCount];
            if (!OptimizerHoldsModelParameters()) BuildAndAdoptParameters(train, inputs);
            hooks.TrainBegin();
            BeginCompiledSteps(perSample, weights, train.InputCount, train.TargetCount);
            if (InitialEpoch < 0) throw new KilnException($"Fit: a callback set InitialEpoch to {InitialEpoch}; epochs are numbered from 0");
            var logs = new Dictionary<string, double>(StringComparer.Ordinal);
            Dictionary<string, double> epochLogs = new(StringComparer.Ordinal);
            for (int epoch = InitialEpoch; epoch < epochs; epoch++)
            {
                Epoch = epoch;
                ResetMetrics();
                logs.Clear();
                progress?.Epoch(epoch, epochs);
                hooks.EpochBegin(epoch);
                progress?.Start(train.BatchCount);
                var (batches, samples) = TrainEpoch(epoch, train, inputs, targets, logs, hooks, progress, perSample, weights, verbose);

                epochLogs = new Dictionary<string, double>(logs, StringComparer.Ordinal);
                if (validation is not null)
                    foreach (var (name, value) in Test(validation, hooks, progress: null, validation: true))
                        epochLogs["val_" + name] = value;
                hooks.EpochEnd(epoch, epochLogs);
                History.Append(epoch, epochLogs);
                progress?.Finish(batches, samples, epochLogs);
                if (StopTraining) break;
            }
            hooks.TrainEnd(epochLogs);
            return Snapshot(History);
        }
        finally
        {
            EndCompiledSteps();
            modes.Restore();
        }
    }

    /// <summary>
    /// The training batches of one epoch: for each, a step in training mode inside its own scope
    /// (forward, loss, ZeroGrad, Backward, optimizer step, metrics), then the running means in
    /// <paramref name="logs"/> and the batch-end hooks. Ends early when a callback sets
    /// <see cref="StopTraining"/>. Returns the batches and samples seen.
    /// </summary>
    private (int Batches, long Samples) TrainEpoch(int epoch, BatchSource train, Tensor[] inputs, Tensor[] targets, Dictionary<string, double> logs,
        CallbackList hooks, ProgressBar? progress, Loss? perSample, ClassWeights? weights, int verbose)
    {
        double lossSum = 0;
        long samples = 0;
        int batch = 0;
        train.Start(epoch);
        try
        {
            while (train.MoveNext())
            {
                hooks.TrainBatchBegin(batch);
                int n;
                double loss;
                try
                {
                    using var scope = Engine.Scope();
                    n = train.Load(inputs, targets);
                    Model.Train();
                    if (CompiledStep(inputs, targets, verbose) is { } compiled) loss = compiled;
                    else
                    {
                        var outputs = Forward(inputs);
                        var value = BatchLoss(outputs, targets, n, perSample, weights);
                        Optimizer.ZeroGrad();
                        value.Backward();
                        ClipEagerGradients();
                        Optimizer.Step();
                        loss = value.Item();
                        UpdateMetrics(outputs, targets);
                    }
                }
                catch (KilnShapeException e)
                {
                    throw Located($"Fit (epoch {epoch}, batch {batch})", e);
                }
                lossSum += loss * n;
                samples += n;
                WriteLogs(logs, lossSum, samples);
                hooks.TrainBatchEnd(batch, logs);
                batch++;
                progress?.Update(batch, logs);
                if (StopTraining) break;
            }
        }
        finally
        {
            train.Finish();
            Array.Clear(inputs);
            Array.Clear(targets);
        }
        return (batch, samples);
    }

    /// <summary>A copy of <paramref name="history"/>, value for value (NaN where an epoch did not log a name, as there).</summary>
    private static History Snapshot(History history)
    {
        var copy = new History();
        for (int i = 0; i < history.Epochs.Count; i++)
        {
            var logs = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var name in history.Keys) logs[name] = history[name][i];
            copy.Append(history.Epochs[i], logs);
        }
        return copy;
    }

    /// <summary>Whether the optimizer already holds any of the model's parameters (else Fit adds them after the first forward pass).</summary>
    private bool OptimizerHoldsModelParameters()
    {
        var held = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var group in Optimizer.ParamGroups)
            foreach (var p in group.Params) held.Add(p);
        if (held.Count == 0) return false;
        foreach (var p in Model.Parameters())
            if (held.Contains(p)) return true;
        return false;
    }

    /// <summary>
    /// Gives the optimizer every parameter of the model as one group, after running the model once on
    /// the first training batch (evaluation mode, no gradients, nothing kept), as Keras builds a model
    /// before fitting it: a lazy layer creates its parameters on its first call, so the optimizer and
    /// the train-begin callbacks (which may restore weights and optimizer state) see all of them.
    /// </summary>
    private void BuildAndAdoptParameters(BatchSource train, Tensor[] inputs)
    {
        train.Start(null);
        try
        {
            if (train.MoveNext())
            {
                using var noGrad = Engine.NoGrad();
                using var scope = Engine.Scope();
                train.Load(inputs, []);
                Model.Eval();
                Forward(inputs);
            }
        }
        catch (KilnShapeException e)
        {
            throw Located("Fit (building the model on the first batch)", e);
        }
        finally
        {
            train.Finish();
            Array.Clear(inputs);
        }
        var parameters = Model.Parameters().ToList();
        if (parameters.Count == 0)
            throw new KilnException($"Fit: {Model.GetType().Name} has no parameters to train");
        Optimizer.AddParamGroup(parameters);
    }
}
