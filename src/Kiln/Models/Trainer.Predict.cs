using Kiln.Data;
using Kiln.NN;

namespace Kiln.Models;

// Predict: the model's outputs over a dataset, in evaluation mode without gradients.
public sealed partial class Trainer
{
    /// <summary>
    /// The model's outputs for every input of <paramref name="data"/> (targets are ignored),
    /// concatenated along the first dimension (Keras's <c>model.predict</c>), computed in evaluation
    /// mode without gradients; the model's training mode is restored afterwards. The caller owns the
    /// result (it belongs to the caller's current <see cref="Engine.Scope"/>, if any).
    /// </summary>
    /// <param name="data">The batches.</param>
    /// <param name="verbose">0 silent (the default, as prediction often runs inside other loops), 1 a progress bar, 2 one final line.</param>
    /// <param name="callbacks">Called at the predict hooks.</param>
    public Tensor Predict(DataLoader data, int verbose = 0, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSingleTensorModel("Predict", needsTargets: false);
        CheckSingleOutput();
        using var source = new LoaderBatchSource(data);
        return Predict(source, verbose, callbacks)[0];
    }

    /// <summary>The model's outputs for <paramref name="x"/>, run in batches of <paramref name="batchSize"/>; otherwise as <see cref="Predict(DataLoader, int, IEnumerable{Callback}?)"/>.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32, int verbose = 0, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckSingleOutput();
        return Predict([x], batchSize, verbose, callbacks)[0];
    }

    /// <summary>The outputs (one tensor per output, each concatenated over the batches) of a model of several inputs or outputs; otherwise as <see cref="Predict(Tensor, int, int, IEnumerable{Callback}?)"/>.</summary>
    public Tensor[] Predict(Tensor[] x, int batchSize = 32, int verbose = 0, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        int samples = CheckData("Predict", x, null);
        CheckBatchSize(batchSize);
        using var source = new TensorBatchSource(x, [], samples, batchSize, shuffle: false);
        return Predict(source, verbose, callbacks);
    }

    private void CheckSingleOutput()
    {
        if (OutputCount != 1)
            throw new ArgumentException($"Predict: {Model.GetType().Name} returns {OutputCount} outputs; use Predict(Tensor[] x), which returns one tensor per output");
    }

    private Tensor[] Predict(BatchSource source, int verbose, IEnumerable<Callback>? callbacks)
    {
        CheckVerbose(verbose);
        if (source.BatchCount == 0) throw new ArgumentException("Predict: the data has no batches");
        var hooks = new CallbackList(this, "Predict", callbacks);
        var progress = CreateProgress(verbose);
        var modes = TrainingModes.Capture(Model);
        var parts = new List<Tensor>[OutputCount];
        for (int k = 0; k < parts.Length; k++) parts[k] = new List<Tensor>(source.BatchCount);
        var inputs = new Tensor[source.InputCount];
        var noLogs = new Dictionary<string, double>();
        try
        {
            hooks.PredictBegin();
            progress?.Start(source.BatchCount);
            Model.Eval();
            long samples = 0;
            int batch = 0;
            source.Start(null);
            try
            {
                while (source.MoveNext())
                {
                    hooks.PredictBatchBegin(batch);
                    try
                    {
                        using var noGrad = Engine.NoGrad();
                        using var scope = Engine.Scope();
                        samples += source.Load(inputs, []);
                        var outputs = Forward(inputs);
                        for (int k = 0; k < outputs.Length; k++) parts[k].Add(Keep(outputs[k], scope));
                    }
                    catch (KilnShapeException e)
                    {
                        throw Located($"Predict (batch {batch})", e);
                    }
                    hooks.PredictBatchEnd(batch);
                    batch++;
                    progress?.Update(batch, noLogs);
                }
            }
            finally
            {
                source.Finish();
                Array.Clear(inputs);
            }
            hooks.PredictEnd();
            progress?.Finish(batch, samples, noLogs);
            return Concatenate(parts);
        }
        finally
        {
            foreach (var list in parts)
                foreach (var part in list) part.Dispose();
            modes.Restore();
        }
    }

    /// <summary>An output taken out of the step's scope; an output the step did not make (an input passed through) is copied, since its batch is freed.</summary>
    private static Tensor Keep(Tensor output, TensorScope scope)
    {
        var kept = output.Scope == scope ? output : output.Clone();
        return kept.DetachFromScope();
    }

    /// <summary>Each output's batches joined along the first dimension, in the caller's scope.</summary>
    private static Tensor[] Concatenate(List<Tensor>[] parts)
    {
        var results = new Tensor[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            var list = parts[k];
            if (list.Count == 1)
            {
                results[k] = list[0];
                list.Clear();
                TensorScope.Track(results[k]);
            }
            else
            {
                results[k] = Tensor.Cat(list, 0);
            }
        }
        return results;
    }
}
