namespace Kiln.Models;

/// <summary>
/// A streaming weighted mean (Keras's <c>keras.metrics.Mean</c>), for logging any quantity: add scalars
/// with <see cref="Update(double, double)"/> or tensors with <see cref="UpdateValues"/>, and read Σ w·x / Σ w
/// (0 before anything was added). Given to Compile it averages the model's outputs (the target is not read).
/// </summary>
public sealed class Mean : Metric
{
    private double _total;
    private double _weight;

    /// <summary>A mean logged as <paramref name="name"/>.</summary>
    public Mean(string name = "mean") : base(name) { }

    /// <summary>Adds <paramref name="value"/> with <paramref name="weight"/>.</summary>
    public void Update(double value, double weight = 1)
    {
        _total += value * weight;
        _weight += weight;
    }

    /// <summary>
    /// Adds every element of <paramref name="values"/> (a scalar, or [N, ...] of any numeric dtype), each with
    /// weight 1, or with its sample's weight from <paramref name="sampleWeight"/> [N] (Keras broadcasts the
    /// weights over the values the same way).
    /// </summary>
    public void UpdateValues(Tensor values, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Rank == 0 && sampleWeight is not null)
            throw new KilnShapeException($"{Name}: a scalar value takes no sampleWeight tensor (got {MetricInputs.Describe(sampleWeight)}); use Update(value, weight)");
        var dtype = values.DType == DType.Float32 ? DType.Float32 : DType.Float64;
        int samples = values.Rank == 0 ? 1 : values.Size(0);
        using var data = ContiguousData.Of(values, dtype);
        using var weights = MetricInputs.Weights(Name, sampleWeight, samples);
        var (sum, weight) = dtype == DType.Float32
            ? SampleMeans.WeightedSums(data.Span<float>(), default, ElementTerm.Value, samples, weights.Span<double>())
            : SampleMeans.WeightedSums(data.Span<double>(), default, ElementTerm.Value, samples, weights.Span<double>());
        // Every element counts with its sample's weight, as Keras broadcasts the weights over the values.
        _total += sum;
        _weight += samples == 0 ? 0 : weight * (values.NumElements / samples);
    }

    /// <summary>Adds the elements of <paramref name="prediction"/> (see <see cref="UpdateValues"/>); <paramref name="target"/> is not read.</summary>
    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null) => UpdateValues(prediction, sampleWeight);

    /// <inheritdoc/>
    public override double Result() => MetricInputs.Ratio(_total, _weight);

    /// <inheritdoc/>
    public override void Reset() => (_total, _weight) = (0, 0);

    /// <inheritdoc/>
    public override Metric Clone() => new Mean(Name);
}
