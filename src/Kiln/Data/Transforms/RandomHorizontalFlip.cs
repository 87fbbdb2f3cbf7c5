namespace Kiln.Data;

/// <summary>Mirrors an image left to right (its last dimension) with probability <see cref="P"/> (torchvision's <c>RandomHorizontalFlip</c>).</summary>
public sealed class RandomHorizontalFlip : Transform
{
    /// <summary>A flip that happens with probability <paramref name="p"/> (in [0, 1]).</summary>
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomHorizontalFlip: p must be in [0, 1]");
        P = p;
    }

    /// <summary>The probability of a flip.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2) throw new KilnShapeException($"RandomHorizontalFlip: expects an image of shape [..., H, W], got {input.Shape}");
        // One draw per call whatever p is, so the draws that follow in a Compose do not depend on p.
        if (!(RandomDouble() < P)) return input;
        using var reversed = Tensor.Arange(input.Size(-1) - 1, -1, -1);
        return input.IndexSelect(input.Rank - 1, reversed);
    }
}
