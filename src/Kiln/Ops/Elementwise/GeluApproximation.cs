namespace Kiln;

/// <summary>Which form of Gelu to compute (PyTorch's <c>approximate</c> argument).</summary>
public enum GeluApproximation
{
    /// <summary>The exact form x * Phi(x), with Phi the standard normal CDF (via erf).</summary>
    None,

    /// <summary>0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), as in the original BERT and GPT-2 code.</summary>
    Tanh,
}
