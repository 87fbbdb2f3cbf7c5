namespace Kiln.NN;

/// <summary>
/// In training, zeroes each element with probability <see cref="P"/> and scales the rest by
/// 1/(1 - p); in evaluation, the identity (PyTorch's <c>nn.Dropout</c>). Masks come from Kiln's
/// seeded generator.
/// </summary>
public class Dropout : Module
{
    /// <summary>Dropout with probability <paramref name="p"/> in [0, 1].</summary>
    public Dropout(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"Dropout: p must be in [0, 1], got {p}");
        P = p;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public double P { get; }

    /// <summary>The input with elements dropped (training) or unchanged (evaluation).</summary>
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, IsTraining);

    protected override string ExtraRepr() => $"p={PyRepr.Float(P)}, inplace=False";
}
