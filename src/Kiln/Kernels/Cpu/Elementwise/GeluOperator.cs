using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Exact Gelu: x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2)). Written with erfc rather than 1 + erf so
/// large negative inputs keep their relative accuracy. float is computed in float64 (widened lanes).
/// </summary>
internal readonly struct GeluOperator : IUnaryVectorOperator<float>, IUnaryVectorOperator<double>
{
    private const double MinusInvSqrt2 = -0.70710678118654752440;

    public double Invoke(double x) => 0.5 * x * ErrorFunction.Erfc(x * MinusInvSqrt2);

    public Vector256<double> Invoke(Vector256<double> x)
        => Vector256.Create(0.5) * x * ErrorFunction.Erfc(x * Vector256.Create(MinusInvSqrt2));

    public Vector512<double> Invoke(Vector512<double> x)
        => Vector512.Create(0.5) * x * ErrorFunction.Erfc(x * Vector512.Create(MinusInvSqrt2));

    public float Invoke(float x) => (float)Invoke((double)x);

    public Vector256<float> Invoke(Vector256<float> x)
    {
        var (lower, upper) = Vector256.Widen(x);
        return Vector256.Narrow(Invoke(lower), Invoke(upper));
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        var (lower, upper) = Vector512.Widen(x);
        return Vector512.Narrow(Invoke(lower), Invoke(upper));
    }
}
