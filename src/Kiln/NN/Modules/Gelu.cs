namespace Kiln.NN;

/// <summary>Gaussian error linear unit, exact or with the tanh approximation (PyTorch's <c>nn.GELU</c>).</summary>
public class Gelu : Module
{
    /// <summary>A GELU, exact unless <paramref name="approximate"/> asks for the tanh form.</summary>
    public Gelu(GeluApproximation approximate = GeluApproximation.None)
    {
        if (!Enum.IsDefined(approximate)) throw new ArgumentOutOfRangeException(nameof(approximate), approximate, "Gelu: unknown approximation");
        Approximate = approximate;
    }

    /// <summary>Which form is computed.</summary>
    public GeluApproximation Approximate { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Gelu(input, Approximate);

    protected override string TypeName => "GELU";

    protected override string ExtraRepr() => Approximate == GeluApproximation.Tanh ? "approximate='tanh'" : "approximate='none'";
}
