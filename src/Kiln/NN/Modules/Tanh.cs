namespace Kiln.NN;

/// <summary>Hyperbolic tangent (PyTorch's <c>nn.Tanh</c>).</summary>
public class Tanh : Module
{
    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Tanh(input);
}
