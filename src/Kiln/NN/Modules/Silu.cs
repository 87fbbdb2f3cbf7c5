namespace Kiln.NN;

/// <summary>x · sigmoid(x) (PyTorch's <c>nn.SiLU</c>).</summary>
public class Silu : Module
{
    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Silu(input);

    protected override string TypeName => "SiLU";
}
