namespace Kiln.NN;

/// <summary>1 / (1 + e^-x) (PyTorch's <c>nn.Sigmoid</c>).</summary>
public class Sigmoid : Module
{
    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Sigmoid(input);
}
