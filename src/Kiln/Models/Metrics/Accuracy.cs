using System.Numerics;

namespace Kiln.Models;

/// <summary>
/// The fraction of predictions that are right, for the two layouts a classifier has (what Keras's
/// "accuracy" string picks between). Class scores [N, C] with C ≥ 2 (logits or probabilities): right
/// when the argmax equals the target class, given as integer indices [N] (or [N, 1]) or as one-hot
/// scores [N, C]. Anything else is binary: probabilities of any shape [N, ...] against 0/1 targets of
/// that shape (or with a trailing 1 added or dropped): right when (prediction &gt; threshold) equals the
/// target, as Keras's binary_accuracy. Multi-label [N, C] outputs count as class scores; for logits
/// of a binary model pass <c>threshold: 0</c>. Each sample counts with its weight; reads 0 before any batch.
/// </summary>
public sealed class Accuracy : Metric
{
    private readonly double _threshold;
    private double _hits;
    private double _weight;

    /// <summary>An accuracy that calls a binary prediction positive above <paramref name="threshold"/>.</summary>
    public Accuracy(double threshold = 0.5, string name = "accuracy") : base(name)
    {
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"{name}: threshold must be a number");
        _threshold = threshold;
    }

    /// <summary>Above this a binary prediction counts as 1.</summary>
    public double Threshold => _threshold;

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        MetricInputs.CheckPrediction(Name, prediction, target);
        (double hits, double weight) = prediction.Rank == 2 && prediction.Size(1) >= 2
            ? ClassScores.Count(Name, prediction, target, sampleWeight, k: 0, acceptOneHot: true)
            : CountBinary(prediction, target, sampleWeight);
        _hits += hits;
        _weight += weight;
    }

    /// <inheritdoc/>
    public override double Result() => MetricInputs.Ratio(_hits, _weight);

    /// <inheritdoc/>
    public override void Reset() => (_hits, _weight) = (0, 0);

    /// <inheritdoc/>
    public override Metric Clone() => new Accuracy(_threshold, Name);

    private (double Hits, double Weight) CountBinary(Tensor prediction, Tensor target, Tensor? sampleWeight)
    {
        MetricInputs.CheckElementwise(Name, prediction, target, "0/1 targets");
        using var values = ContiguousData.Of(prediction, prediction.DType);
        using var truth = ContiguousData.Of(target, prediction.DType);
        using var weights = MetricInputs.Weights(Name, sampleWeight, prediction.Size(0));
        int perSample = prediction.Size(0) == 0 ? 0 : prediction.NumElements / prediction.Size(0);
        return prediction.DType == DType.Float32
            ? CountBinary(values.Span<float>(), truth.Span<float>(), (float)_threshold, weights.Span<double>(), perSample)
            : CountBinary(values.Span<double>(), truth.Span<double>(), _threshold, weights.Span<double>(), perSample);
    }

    private static (double Hits, double Weight) CountBinary<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> truth, T threshold, ReadOnlySpan<double> weights, int perSample)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double hits = 0, total = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double w = weights.IsEmpty ? 1 : weights[i / perSample];
            total += w;
            if ((values[i] > threshold ? T.One : T.Zero) == truth[i]) hits += w;
        }
        return (hits, total);
    }
}
