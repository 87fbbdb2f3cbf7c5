namespace Kiln.NN;

/// <summary>Softmax along a dimension (PyTorch's <c>nn.Softmax</c>).</summary>
public class Softmax : Module
{
    /// <summary>Softmax along <paramref name="dim"/> (negative counts from the end).</summary>
    public Softmax(int dim) => Dim = dim;

    /// <summary>The dimension that sums to one.</summary>
    public int Dim { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Softmax(input, Dim);

    protected override string TypeName => "Softmax";

    protected override string ExtraRepr() => $"dim={Dim}";
}
