namespace Kiln.Models;

/// <summary>
/// A streaming metric (Keras's <c>keras.metrics.Metric</c>): <see cref="Update"/> folds in one batch,
/// <see cref="Result"/> reads the value over every batch since <see cref="Reset"/>. Fit, Evaluate and
/// the callbacks log it under <see cref="Name"/> (and "val_" + Name on validation data). Subclass it
/// for a custom metric; keep the state in plain fields, not tensors, so a metric holds no memory
/// between batches.
/// </summary>
public abstract class Metric
{
    /// <summary>A metric logged as <paramref name="name"/>.</summary>
    protected Metric(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The name logs and the progress bar use ("accuracy").</summary>
    public string Name { get; }

    /// <summary>Folds in one batch: <paramref name="prediction"/> as the model returned it, <paramref name="target"/> as the data gave it, and optional per-sample weights [batch].</summary>
    public abstract void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null);

    /// <summary>The metric over every batch since the last <see cref="Reset"/> (NaN or 0 before any, as the metric defines).</summary>
    public abstract double Result();

    /// <summary>Forgets every batch seen.</summary>
    public abstract void Reset();

    /// <summary>A new metric of the same kind and settings with no batches seen (Compile clones the metrics it is given, so one list can configure several models).</summary>
    public abstract Metric Clone();

    /// <inheritdoc/>
    public override string ToString() => Name;
}
