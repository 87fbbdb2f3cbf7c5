namespace Kiln.NN;

public static partial class F
{
    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor input) => input.Relu();

    /// <summary>Gaussian error linear unit, exact (erf) or with the tanh approximation.</summary>
    public static Tensor Gelu(Tensor input, GeluApproximation approximate = GeluApproximation.None) => input.Gelu(approximate);

    /// <summary>1 / (1 + e^-x).</summary>
    public static Tensor Sigmoid(Tensor input) => input.Sigmoid();

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor input) => input.Tanh();

    /// <summary>x · sigmoid(x).</summary>
    public static Tensor Silu(Tensor input) => input.Silu();

    /// <summary>log(1 + e^(beta·x)) / beta, linear above <paramref name="threshold"/>.</summary>
    public static Tensor Softplus(Tensor input, double beta = 1, double threshold = 20) => input.Softplus(beta, threshold);

    /// <summary>x where x &gt; 0, negativeSlope·x elsewhere.</summary>
    public static Tensor LeakyRelu(Tensor input, double negativeSlope = 0.01) => input.LeakyRelu(negativeSlope);

    /// <summary>x where x &gt; 0, alpha·(e^x - 1) elsewhere.</summary>
    public static Tensor Elu(Tensor input, double alpha = 1) => input.Elu(alpha);

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public static Tensor Softmax(Tensor input, int dim) => input.Softmax(dim);

    /// <summary>Log of the softmax along <paramref name="dim"/>, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor input, int dim) => input.LogSoftmax(dim);
}
