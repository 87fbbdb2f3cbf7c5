namespace Kiln.NN;

/// <summary>max(x, 0) (PyTorch's <c>nn.ReLU</c>, printed <c>ReLU()</c>).</summary>
public class Relu : Module
{
    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Relu(input);

    protected override string TypeName => "ReLU";
}
