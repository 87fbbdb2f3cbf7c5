namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1-p) when
    /// <paramref name="training"/>; the identity otherwise. The mask comes from Kiln's seeded generator.
    /// </summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1], got {p}");
        if (!training || p == 0) return input;
        if (p == 1) return input * 0.0;
        var keep = Tensor.RandLike(input).Ge(p).To(input.DType);
        return input * keep * (1 / (1 - p));
    }
}
