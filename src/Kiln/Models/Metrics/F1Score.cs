namespace Kiln.Models;

/// <summary>
/// The harmonic mean of precision and recall, computed exactly as 2tp / (2tp + fp + fn) (0 while there
/// is no positive at all; Keras's F1Score adds an epsilon instead). Inputs as <see cref="Precision"/>:
/// binary by default (every element a decision, positive above <see cref="Threshold"/>, truly positive
/// where the target is not 0), or with <c>numClasses</c> C the macro average (each class's F1, then
/// their plain mean, as Keras's <c>average="macro"</c> and scikit-learn's f1_score with labels 0..C-1) of
/// class scores [N, C] against int64 class indices [N]. Samples count with their weights.
/// </summary>
public sealed class F1Score : Metric
{
    private readonly ConfusionCounts _counts;

    /// <summary>An F1 score, binary at <paramref name="threshold"/>, or macro-averaged over <paramref name="numClasses"/> classes.</summary>
    public F1Score(double threshold = 0.5, int? numClasses = null, string name = "f1_score") : base(name)
        => _counts = new ConfusionCounts(name, threshold, numClasses);

    /// <summary>Above this a binary prediction counts as positive.</summary>
    public double Threshold => _counts.Threshold;

    /// <summary>The class count of a multi-class F1 score, or null for a binary one.</summary>
    public int? NumClasses => _counts.NumClasses;

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null) => _counts.Update(prediction, target, sampleWeight);

    /// <inheritdoc/>
    public override double Result() => _counts.F1();

    /// <inheritdoc/>
    public override void Reset() => _counts.Reset();

    /// <inheritdoc/>
    public override Metric Clone() => new F1Score(Threshold, NumClasses, Name);
}
