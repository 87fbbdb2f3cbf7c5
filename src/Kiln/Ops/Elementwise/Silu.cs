namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>x * sigmoid(x) for each element (also called swish). A composite.</summary>
    public Tensor Silu() => this * Sigmoid();
}
