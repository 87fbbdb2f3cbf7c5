using System.Numerics;

namespace Kiln.Models;

/// <summary>
/// The area under the ROC curve, as Keras's AUC computes it: the predictions are compared with a fixed
/// set of <see cref="NumThresholds"/> thresholds spread evenly over [0, 1] (the first just below 0, the
/// last just above 1), the weighted true and false positives at each are accumulated over the batches,
/// and the curve through those points is integrated with the trapezoidal rule. It is exact up to the
/// threshold spacing 1/(NumThresholds − 1): pairs of predictions closer than that may count as ties.
/// Binary inputs of any shape [N, ...] (multi-label outputs are flattened, as Keras's default): the
/// prediction holds probabilities (or logits, with <c>fromLogits</c>), the target's non-zero elements are
/// the positives. Reads 0 while either class is missing. Samples count with their weights.
/// </summary>
public sealed class Auc : Metric
{
    /// <summary>Keras's epsilon: the end thresholds sit this far outside [0, 1] so that 0 and 1 fall inside.</summary>
    private const double Epsilon = 1e-7;

    private readonly double[] _thresholds;
    // Bucket b holds the weight of the predictions above exactly b thresholds (b = 0 .. NumThresholds).
    private readonly double[] _positives;
    private readonly double[] _negatives;

    /// <summary>An ROC AUC over <paramref name="numThresholds"/> thresholds; <paramref name="fromLogits"/> applies a sigmoid to the predictions first.</summary>
    public Auc(int numThresholds = 200, bool fromLogits = false, string name = "auc") : base(name)
    {
        if (numThresholds < 2) throw new ArgumentOutOfRangeException(nameof(numThresholds), numThresholds, $"{name}: numThresholds must be at least 2");
        NumThresholds = numThresholds;
        FromLogits = fromLogits;
        _thresholds = new double[numThresholds];
        _thresholds[0] = -Epsilon;
        for (int i = 1; i < numThresholds - 1; i++) _thresholds[i] = (double)i / (numThresholds - 1);
        _thresholds[^1] = 1 + Epsilon;
        _positives = new double[numThresholds + 1];
        _negatives = new double[numThresholds + 1];
    }

    /// <summary>The number of thresholds the ROC curve is sampled at.</summary>
    public int NumThresholds { get; }

    /// <summary>Whether the predictions are logits (a sigmoid turns them into probabilities first).</summary>
    public bool FromLogits { get; }

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        MetricInputs.CheckPrediction(Name, prediction, target);
        MetricInputs.CheckElementwise(Name, prediction, target, "targets (0 or 1)");
        using var values = ContiguousData.Of(prediction, prediction.DType);
        using var truth = ContiguousData.Of(target, prediction.DType);
        using var weights = MetricInputs.Weights(Name, sampleWeight, prediction.Size(0));
        int perSample = prediction.Size(0) == 0 ? 0 : prediction.NumElements / prediction.Size(0);
        if (prediction.DType == DType.Float32) Accumulate(values.Span<float>(), truth.Span<float>(), weights.Span<double>(), perSample);
        else Accumulate(values.Span<double>(), truth.Span<double>(), weights.Span<double>(), perSample);
    }

    /// <inheritdoc/>
    public override double Result()
    {
        double positives = 0, negatives = 0;
        for (int b = 0; b < _positives.Length; b++)
        {
            positives += _positives[b];
            negatives += _negatives[b];
        }
        if (positives == 0 || negatives == 0) return 0;
        // Walk the thresholds from the highest down: the true and false positives at threshold i are the
        // weights of the buckets above it, so the curve rises from (0, 0) to (1, 1).
        double area = 0, truePositives = _positives[^1], falsePositives = _negatives[^1];
        for (int i = NumThresholds - 1; i > 0; i--)
        {
            double nextTrue = truePositives + _positives[i], nextFalse = falsePositives + _negatives[i];
            area += (nextFalse - falsePositives) / negatives * (nextTrue + truePositives) / positives / 2;
            truePositives = nextTrue;
            falsePositives = nextFalse;
        }
        return area;
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        Array.Clear(_positives);
        Array.Clear(_negatives);
    }

    /// <inheritdoc/>
    public override Metric Clone() => new Auc(NumThresholds, FromLogits, Name);

    private void Accumulate<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> truth, ReadOnlySpan<double> weights, int perSample)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            double p = double.CreateTruncating(values[i]);
            if (FromLogits) p = 1 / (1 + Math.Exp(-p));
            double w = weights.IsEmpty ? 1 : weights[i / perSample];
            int bucket = ThresholdsBelow(p);
            if (truth[i] != T.Zero) _positives[bucket] += w;
            else _negatives[bucket] += w;
        }
    }

    /// <summary>How many thresholds <paramref name="p"/> is above: a guess from the even spacing, corrected against the thresholds themselves.</summary>
    private int ThresholdsBelow(double p)
    {
        double scaled = p * (NumThresholds - 1);
        int count = scaled >= 0 ? (scaled < NumThresholds ? (int)scaled : NumThresholds) : 0;
        while (count < NumThresholds && p > _thresholds[count]) count++;
        while (count > 0 && !(p > _thresholds[count - 1])) count--;
        return count;
    }
}
