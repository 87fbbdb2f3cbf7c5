namespace Kiln.Models;

/// <summary>
/// The fraction of rows of class scores [N, C] (logits or probabilities) whose argmax is the target's
/// integer class index ([N] or [N, 1], int64 as F.CrossEntropy takes), as Keras's
/// sparse_categorical_accuracy. Each sample counts with its weight; reads 0 before any batch.
/// </summary>
public sealed class SparseCategoricalAccuracy : Metric
{
    private double _hits;
    private double _weight;

    /// <summary>A sparse categorical accuracy logged as <paramref name="name"/>.</summary>
    public SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy") : base(name) { }

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        var (hits, weight) = ClassScores.Count(Name, prediction, target, sampleWeight, k: 0, acceptOneHot: false);
        _hits += hits;
        _weight += weight;
    }

    /// <inheritdoc/>
    public override double Result() => MetricInputs.Ratio(_hits, _weight);

    /// <inheritdoc/>
    public override void Reset() => (_hits, _weight) = (0, 0);

    /// <inheritdoc/>
    public override Metric Clone() => new SparseCategoricalAccuracy(Name);
}
