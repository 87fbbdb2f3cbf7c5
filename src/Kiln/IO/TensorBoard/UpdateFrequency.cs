namespace Kiln.IO;

/// <summary>
/// How often the <see cref="TensorBoard"/> callback writes training values, as Keras's
/// <c>update_freq</c>: <c>"epoch"</c> (the default) writes epoch values only; <c>"batch"</c> or a
/// number N also writes the batch values every N training batches. Converts implicitly from those
/// strings and from an int, so <c>updateFreq: "batch"</c> and <c>updateFreq: 100</c> both read naturally.
/// </summary>
public readonly struct UpdateFrequency : IEquatable<UpdateFrequency>
{
    private UpdateFrequency(int batches) => Batches = batches;

    /// <summary>Epoch values only.</summary>
    public static UpdateFrequency Epoch => default;

    /// <summary>Batch values after every batch as well.</summary>
    public static UpdateFrequency Batch => new(1);

    /// <summary>Batch values every <paramref name="batches"/> batches as well (at least 1).</summary>
    public static UpdateFrequency EveryBatches(int batches)
        => batches >= 1 ? new(batches) : throw new ArgumentOutOfRangeException(nameof(batches), batches, "the update frequency must be at least one batch");

    /// <summary>The number of batches between batch values; 0 when only epoch values are written.</summary>
    public int Batches { get; }

    /// <summary>True when only epoch values are written.</summary>
    public bool IsEpoch => Batches == 0;

    /// <summary>"epoch" or "batch" (any case).</summary>
    public static implicit operator UpdateFrequency(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Equals("epoch", StringComparison.OrdinalIgnoreCase)) return Epoch;
        if (value.Equals("batch", StringComparison.OrdinalIgnoreCase)) return Batch;
        throw new ArgumentException($"update frequency \"{value}\" is not \"epoch\", \"batch\" or a number of batches", nameof(value));
    }

    /// <summary>Every <paramref name="batches"/> batches.</summary>
    public static implicit operator UpdateFrequency(int batches) => EveryBatches(batches);

    /// <inheritdoc/>
    public bool Equals(UpdateFrequency other) => Batches == other.Batches;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is UpdateFrequency other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Batches;

    /// <summary>Equal when both write at the same batch interval.</summary>
    public static bool operator ==(UpdateFrequency left, UpdateFrequency right) => left.Equals(right);

    /// <summary>Different batch intervals.</summary>
    public static bool operator !=(UpdateFrequency left, UpdateFrequency right) => !left.Equals(right);

    /// <summary>"epoch", "batch" or the number of batches.</summary>
    public override string ToString() => Batches switch { 0 => "epoch", 1 => "batch", _ => Batches.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
