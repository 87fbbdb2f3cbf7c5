namespace Kiln.NN;

/// <summary>x where x &gt; 0, negativeSlope·x elsewhere (PyTorch's <c>nn.LeakyReLU</c>).</summary>
public class LeakyRelu : Module
{
    /// <summary>A leaky ReLU with slope <paramref name="negativeSlope"/> below zero.</summary>
    public LeakyRelu(double negativeSlope = 0.01) => NegativeSlope = negativeSlope;

    /// <summary>Slope below zero.</summary>
    public double NegativeSlope { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.LeakyRelu(input, NegativeSlope);

    protected override string TypeName => "LeakyReLU";

    protected override string ExtraRepr() => $"negative_slope={PyRepr.Float(NegativeSlope)}";
}
