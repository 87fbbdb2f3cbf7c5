namespace Kiln.NN;

/// <summary>x where x &gt; 0, alpha·(e^x - 1) elsewhere (PyTorch's <c>nn.ELU</c>).</summary>
public class Elu : Module
{
    /// <summary>An ELU with scale <paramref name="alpha"/> below zero.</summary>
    public Elu(double alpha = 1.0) => Alpha = alpha;

    /// <summary>Scale of the negative part.</summary>
    public double Alpha { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Elu(input, Alpha);

    protected override string TypeName => "ELU";

    protected override string ExtraRepr() => $"alpha={PyRepr.Float(Alpha)}";
}
