namespace Kiln.Models;

/// <summary>
/// The fraction of rows of class scores [N, C] whose true class is among the <see cref="K"/> highest
/// scores (Keras's sparse and plain top_k_categorical_accuracy in one): the target is integer class
/// indices [N] (or [N, 1]) or one-hot scores [N, C] (its argmax is the true class). Classes tied with
/// the k-th highest score count as in the top k, as tf.math.in_top_k; a NaN score for the true class
/// never does. k larger than C is an error. Each sample counts with its weight; reads 0 before any batch.
/// </summary>
public sealed class TopKAccuracy : Metric
{
    private double _hits;
    private double _weight;

    /// <summary>A top-<paramref name="k"/> accuracy logged as <paramref name="name"/>.</summary>
    public TopKAccuracy(int k = 5, string name = "top_k_accuracy") : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
    }

    /// <summary>How many of the highest scores may hold the true class.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        var (hits, weight) = ClassScores.Count(Name, prediction, target, sampleWeight, K, acceptOneHot: true);
        _hits += hits;
        _weight += weight;
    }

    /// <inheritdoc/>
    public override double Result() => MetricInputs.Ratio(_hits, _weight);

    /// <inheritdoc/>
    public override void Reset() => (_hits, _weight) = (0, 0);

    /// <inheritdoc/>
    public override Metric Clone() => new TopKAccuracy(K, Name);
}
