namespace Kiln.Models;

/// <summary>
/// Of the true positives, the fraction predicted positive: tp / (tp + fn), 0 while no target was
/// positive (Keras's Recall). Inputs as <see cref="Precision"/>: binary by default (every element a
/// decision, positive above <see cref="Threshold"/>, truly positive where the target is not 0), or with
/// <c>numClasses</c> C the macro average over C classes of class scores [N, C] against int64 class
/// indices [N]. Samples count with their weights.
/// </summary>
public sealed class Recall : Metric
{
    private readonly ConfusionCounts _counts;

    /// <summary>A recall, binary at <paramref name="threshold"/>, or macro-averaged over <paramref name="numClasses"/> classes.</summary>
    public Recall(double threshold = 0.5, int? numClasses = null, string name = "recall") : base(name)
        => _counts = new ConfusionCounts(name, threshold, numClasses);

    /// <summary>Above this a binary prediction counts as positive.</summary>
    public double Threshold => _counts.Threshold;

    /// <summary>The class count of a multi-class recall, or null for a binary one.</summary>
    public int? NumClasses => _counts.NumClasses;

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null) => _counts.Update(prediction, target, sampleWeight);

    /// <inheritdoc/>
    public override double Result() => _counts.Recall();

    /// <inheritdoc/>
    public override void Reset() => _counts.Reset();

    /// <inheritdoc/>
    public override Metric Clone() => new Recall(Threshold, NumClasses, Name);
}
