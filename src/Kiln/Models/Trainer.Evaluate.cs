using Kiln.Data;
using Kiln.NN;

namespace Kiln.Models;

// Evaluate: the loss and metrics over a dataset, in evaluation mode without gradients.
public sealed partial class Trainer
{
    /// <summary>
    /// The loss and metrics over every batch of <paramref name="data"/> (Keras's <c>model.evaluate</c>),
    /// with the model in evaluation mode and no gradients recorded; the model's training mode is
    /// restored afterwards. "loss" is the mean of the batch losses weighted by their sizes, which for a
    /// mean loss is the loss over the whole data.
    /// </summary>
    /// <param name="data">The batches (one input and one target each).</param>
    /// <param name="verbose">0 silent, 1 a progress bar, 2 one final line.</param>
    /// <param name="callbacks">Called at the test hooks (OnTestBegin, OnTestBatchBegin/End, OnTestEnd).</param>
    /// <returns>"loss" and each metric by name.</returns>
    public IReadOnlyDictionary<string, double> Evaluate(DataLoader data, int verbose = 1, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSingleTensorModel("Evaluate", needsTargets: true);
        using var source = new LoaderBatchSource(data);
        return Evaluate(source, verbose, callbacks);
    }

    /// <summary>The loss and metrics over <paramref name="x"/> and <paramref name="y"/> in batches of <paramref name="batchSize"/>; otherwise as <see cref="Evaluate(DataLoader, int, IEnumerable{Callback}?)"/>.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor y, int batchSize = 32, int verbose = 1, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return Evaluate([x], [y], batchSize, verbose, callbacks);
    }

    /// <summary>The loss (summed over the outputs) and metrics (on the first output) of a model of several inputs or outputs; otherwise as <see cref="Evaluate(Tensor, Tensor, int, int, IEnumerable{Callback}?)"/>.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor[] x, Tensor[] y, int batchSize = 32, int verbose = 1, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int samples = CheckData("Evaluate", x, y);
        CheckBatchSize(batchSize);
        using var source = new TensorBatchSource(x, y, samples, batchSize, shuffle: false);
        return Evaluate(source, verbose, callbacks);
    }

    private Dictionary<string, double> Evaluate(BatchSource source, int verbose, IEnumerable<Callback>? callbacks)
    {
        CheckVerbose(verbose);
        if (source.BatchCount == 0) throw new ArgumentException("Evaluate: the data has no batches");
        var hooks = new CallbackList(this, "Evaluate", callbacks);
        var progress = CreateProgress(verbose);
        var modes = TrainingModes.Capture(Model);
        try
        {
            return Test(source, hooks, progress, validation: false);
        }
        finally
        {
            modes.Restore();
        }
    }

    /// <summary>
    /// One evaluation pass (Evaluate, or Fit's validation): resets the metrics, runs every batch in
    /// evaluation mode without gradients, and returns the logs (running means at the end).
    /// </summary>
    private Dictionary<string, double> Test(BatchSource source, CallbackList hooks, ProgressBar? progress, bool validation)
    {
        ResetMetrics();
        var logs = new Dictionary<string, double>(StringComparer.Ordinal);
        var inputs = new Tensor[source.InputCount];
        var targets = new Tensor[source.TargetCount];
        hooks.TestBegin();
        progress?.Start(source.BatchCount);
        Model.Eval();
        double lossSum = 0;
        long samples = 0;
        int batch = 0;
        source.Start(null);
        try
        {
            while (source.MoveNext())
            {
                hooks.TestBatchBegin(batch);
                int n;
                double loss;
                try
                {
                    using var noGrad = Engine.NoGrad();
                    using var scope = Engine.Scope();
                    n = source.Load(inputs, targets);
                    var outputs = Forward(inputs);
                    loss = BatchLoss(outputs, targets, n).Item();
                    UpdateMetrics(outputs, targets);
                }
                catch (KilnShapeException e)
                {
                    throw Located(validation ? $"Fit validation (epoch {Epoch}, batch {batch})" : $"Evaluate (batch {batch})", e);
                }
                lossSum += loss * n;
                samples += n;
                WriteLogs(logs, lossSum, samples);
                hooks.TestBatchEnd(batch, logs);
                batch++;
                progress?.Update(batch, logs);
            }
        }
        finally
        {
            source.Finish();
            Array.Clear(inputs);
            Array.Clear(targets);
        }
        hooks.TestEnd(logs);
        progress?.Finish(batch, samples, logs);
        return logs;
    }
}
