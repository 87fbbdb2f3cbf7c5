namespace Kiln.Models;

/// <summary>
/// Of the predicted positives, the fraction truly positive: tp / (tp + fp), 0 while nothing was
/// predicted positive (Keras's Precision). Binary by default: every element of a prediction of any shape
/// [N, ...] is a decision, positive above <see cref="Threshold"/> (0.5 suits probabilities; pass 0 for
/// logits), against a target of that shape whose non-zero elements are the positives. With
/// <c>numClasses</c> C it is multi-class: the prediction is class scores [N, C], its argmax the predicted
/// class, the target int64 class indices [N], and the result is the macro average (every class's
/// precision weighs the same, classes never predicted count as 0; the threshold is not used). Samples
/// count with their weights.
/// </summary>
public sealed class Precision : Metric
{
    private readonly ConfusionCounts _counts;

    /// <summary>A precision, binary at <paramref name="threshold"/>, or macro-averaged over <paramref name="numClasses"/> classes.</summary>
    public Precision(double threshold = 0.5, int? numClasses = null, string name = "precision") : base(name)
        => _counts = new ConfusionCounts(name, threshold, numClasses);

    /// <summary>Above this a binary prediction counts as positive.</summary>
    public double Threshold => _counts.Threshold;

    /// <summary>The class count of a multi-class precision, or null for a binary one.</summary>
    public int? NumClasses => _counts.NumClasses;

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null) => _counts.Update(prediction, target, sampleWeight);

    /// <inheritdoc/>
    public override double Result() => _counts.Precision();

    /// <inheritdoc/>
    public override void Reset() => _counts.Reset();

    /// <inheritdoc/>
    public override Metric Clone() => new Precision(Threshold, NumClasses, Name);
}
