namespace Kiln.NN;

/// <summary>log(1 + e^(beta·x)) / beta, linear above the threshold (PyTorch's <c>nn.Softplus</c>).</summary>
public class Softplus : Module
{
    /// <summary>A softplus with sharpness <paramref name="beta"/>, linear where beta·x exceeds <paramref name="threshold"/>.</summary>
    public Softplus(double beta = 1, double threshold = 20)
    {
        Beta = beta;
        Threshold = threshold;
    }

    /// <summary>Sharpness.</summary>
    public double Beta { get; }

    /// <summary>Above this value of beta·x the result is x.</summary>
    public double Threshold { get; }

    /// <summary>Applies the activation elementwise.</summary>
    public override Tensor Forward(Tensor input) => F.Softplus(input, Beta, Threshold);

    protected override string TypeName => "Softplus";

    protected override string ExtraRepr() => $"beta={PyRepr.Number(Beta)}, threshold={PyRepr.Number(Threshold)}";
}
