namespace Kiln.NN;

/// <summary>Log of the softmax along a dimension, computed stably (PyTorch's <c>nn.LogSoftmax</c>).</summary>
public class LogSoftmax : Module
{
    /// <summary>Log-softmax along <paramref name="dim"/> (negative counts from the end).</summary>
    public LogSoftmax(int dim) => Dim = dim;

    /// <summary>The dimension normalized over.</summary>
    public int Dim { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.LogSoftmax(input, Dim);

    protected override string TypeName => "LogSoftmax";

    protected override string ExtraRepr() => $"dim={Dim}";
}
