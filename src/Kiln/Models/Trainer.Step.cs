using Kiln.NN;

namespace Kiln.Models;

// What the training, evaluation and prediction loops share: the model's inputs and outputs, the loss of a
// batch, the metrics, argument checks and the progress output.
public sealed partial class Trainer
{
    private Tensor[]? _singleOutput;

    /// <summary>Where the progress output goes (tests set it); null writes to the console.</summary>
    internal TextWriter? ProgressOutput { get; set; }

    /// <summary>Whether the progress bar is redrawn in place (tests set it); null: when the console output is not redirected.</summary>
    internal bool? ProgressInPlace { get; set; }

    /// <summary>The progress output's clock (tests set it); null: a stopwatch.</summary>
    internal Func<TimeSpan>? ProgressClock { get; set; }

    private IMultiInputModel? MultiModel => Model as IMultiInputModel;

    /// <summary>The number of input tensors the model takes.</summary>
    private int InputCount => MultiModel?.InputCount ?? 1;

    /// <summary>The number of outputs the model returns (and of target tensors a batch needs).</summary>
    private int OutputCount => MultiModel?.OutputCount ?? 1;

    /// <summary>Runs the model on a batch's inputs; the returned array is reused by the next call of a single-output model.</summary>
    private Tensor[] Forward(Tensor[] inputs)
    {
        if (MultiModel is { } multi)
        {
            var outputs = multi.Forward(inputs);
            if (outputs is null || outputs.Length != multi.OutputCount)
                throw new KilnException($"{Model.GetType().Name}: Forward returned {outputs?.Length ?? 0} outputs, but the model declares {multi.OutputCount}");
            return outputs;
        }
        var single = _singleOutput ??= new Tensor[1];
        single[0] = Model.Call(inputs[0]);
        return single;
    }

    /// <summary>
    /// The loss of a batch of <paramref name="samples"/>: the sum over the outputs of the loss of each
    /// output against its target. A loss may return a scalar or one value per sample ([N], averaged here);
    /// with <paramref name="sampleWeight"/> the per-sample values are combined as the weighted mean
    /// sum(w·l) / sum(w), <paramref name="perSample"/> giving them.
    /// </summary>
    private Tensor BatchLoss(Tensor[] outputs, Tensor[] targets, int samples, Loss? perSample = null, ClassWeights? classWeights = null)
    {
        Tensor? total = null;
        for (int k = 0; k < outputs.Length; k++)
        {
            Tensor value;
            if (classWeights is null)
            {
                value = Loss(outputs[k], targets[k]);
                if (value.Rank == 1 && value.Size(0) == samples) value = value.Mean();
                else if (value.Rank != 0) throw LossShapeError(value, samples);
            }
            else
            {
                value = (perSample ?? Loss)(outputs[k], targets[k]);
                if (value.Rank != 1 || value.Size(0) != samples)
                    throw new KilnShapeException(value.Rank == 0
                        ? "classWeight weights each sample's loss, but the loss returned one value for the batch; use a loss from Losses or one that returns a value per sample [N]"
                        : LossShapeError(value, samples).Message);
                var weight = classWeights.For(targets[k], value.DType);
                value = (value * weight).Sum() / weight.Sum();
            }
            total = total is null ? value : total + value;
        }
        return total!;
    }

    private static KilnShapeException LossShapeError(Tensor value, int samples)
        => new($"the loss returned a tensor of shape {value.Shape}; expected a scalar or one value per sample [{samples}]");

    private void ResetMetrics()
    {
        for (int i = 0; i < Metrics.Count; i++) Metrics[i].Reset();
    }

    /// <summary>Folds a batch into every metric (without recording gradients); metrics see the first output.</summary>
    private void UpdateMetrics(Tensor[] outputs, Tensor[] targets)
    {
        if (Metrics.Count == 0) return;
        using var noGrad = Engine.NoGrad();
        for (int i = 0; i < Metrics.Count; i++) Metrics[i].Update(outputs[0], targets[0]);
    }

    /// <summary>Sets "loss" (the running mean of the batch losses weighted by their sample counts) and each metric's result.</summary>
    private void WriteLogs(Dictionary<string, double> logs, double lossSum, long samples)
    {
        logs["loss"] = lossSum / samples;
        for (int i = 0; i < Metrics.Count; i++) logs[Metrics[i].Name] = Metrics[i].Result();
    }

    /// <summary>Checks that <paramref name="inputs"/> and <paramref name="targets"/> suit the model and share their sample count; returns it.</summary>
    private int CheckData(string operation, Tensor[] inputs, Tensor[]? targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        string model = Model.GetType().Name;
        if (inputs.Length != InputCount)
            throw new ArgumentException($"{operation}: {model} takes {Count(InputCount, "input")}; x holds {Count(inputs.Length, "tensor")}", "x");
        if (targets is not null && targets.Length != OutputCount)
            throw new ArgumentException($"{operation}: {model} returns {Count(OutputCount, "output")}, so y needs {Count(OutputCount, "target")}; it holds {Count(targets.Length, "tensor")}", "y");
        int samples = -1;
        CheckAll(inputs, "x");
        if (targets is not null) CheckAll(targets, "y");
        return samples;

        void CheckAll(Tensor[] tensors, string name)
        {
            for (int i = 0; i < tensors.Length; i++)
            {
                var t = tensors[i] ?? throw new ArgumentNullException(name, $"{operation}: {name}[{i}] is null");
                string which = tensors.Length == 1 ? name : $"{name}[{i}]";
                if (t.Rank == 0)
                    throw new KilnShapeException($"{operation}: {which} is a scalar; it needs a first dimension of samples");
                if (samples < 0) samples = t.Size(0);
                else if (t.Size(0) != samples)
                    throw new KilnShapeException($"{operation}: {which} {t.Shape} has {t.Size(0)} samples, but {(inputs.Length == 1 ? "x" : "x[0]")} {inputs[0].Shape} has {samples}; every input and target needs the same number of samples (first dimension)");
            }
        }
    }

    /// <summary>A DataLoader gives one input and one target per batch; refuses models that need more.</summary>
    private void CheckSingleTensorModel(string operation, bool needsTargets)
    {
        if (InputCount != 1 || (needsTargets && OutputCount != 1))
            throw new ArgumentException($"{operation}: a DataLoader gives one input and one target per batch, but {Model.GetType().Name} takes {Count(InputCount, "input")} and returns {Count(OutputCount, "output")}; pass arrays of tensors (x: Tensor[], y: Tensor[]) instead");
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static void CheckVerbose(int verbose)
    {
        if (verbose is < 0 or > 2)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "verbose is 0 (silent), 1 (progress bar) or 2 (one line per epoch)");
    }

    private static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1");
    }

    private ProgressBar? CreateProgress(int verbose)
        => verbose == 0 ? null : new ProgressBar(ProgressOutput ?? Console.Out, verbose, ProgressInPlace ?? !Console.IsOutputRedirected, ProgressClock);

    /// <summary>Adds a step's location to a shape error raised while running a batch.</summary>
    private static KilnShapeException Located(string where, KilnShapeException e) => new($"{where}: {e.Message}", e);
}
