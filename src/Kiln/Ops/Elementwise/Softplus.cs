namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// log(1 + e^(beta x)) / beta for each element, and x itself where beta * x &gt; <paramref name="threshold"/>
    /// (PyTorch's softplus). A composite: the exponent is clamped at the threshold so the unused branch
    /// neither overflows nor sends NaN back through the gradient.
    /// </summary>
    public Tensor Softplus(double beta = 1, double threshold = 20)
    {
        var z = this * beta;
        var smooth = (z.Clamp(max: threshold).Exp() + 1).Log() / beta;
        return Where(z.Gt(threshold), this, smooth);
    }
}
