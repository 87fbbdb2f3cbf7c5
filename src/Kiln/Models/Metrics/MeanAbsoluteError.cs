namespace Kiln.Models;

/// <summary>
/// The mean of |prediction − target| (Keras's mean_absolute_error metric): each sample's elements are
/// averaged, then the samples, each with its weight. The target has the prediction's shape (or that
/// shape with a trailing 1 added or dropped) and any numeric dtype. Reads 0 before any batch.
/// </summary>
public sealed class MeanAbsoluteError : Metric
{
    private double _total;
    private double _weight;

    /// <summary>A mean absolute error logged as <paramref name="name"/>.</summary>
    public MeanAbsoluteError(string name = "mean_absolute_error") : base(name) { }

    /// <inheritdoc/>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
        => SampleMeans.UpdateError(Name, ElementTerm.AbsoluteError, prediction, target, sampleWeight, ref _total, ref _weight);

    /// <inheritdoc/>
    public override double Result() => MetricInputs.Ratio(_total, _weight);

    /// <inheritdoc/>
    public override void Reset() => (_total, _weight) = (0, 0);

    /// <inheritdoc/>
    public override Metric Clone() => new MeanAbsoluteError(Name);
}
