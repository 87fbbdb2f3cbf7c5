namespace Kiln.NN;

/// <summary>Returns its input unchanged (PyTorch's <c>nn.Identity</c>): a placeholder, for example for a removed layer.</summary>
public class Identity : Module
{
    /// <summary>The input.</summary>
    public override Tensor Forward(Tensor input) => input;
}
