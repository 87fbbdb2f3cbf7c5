using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>erf(x). float is computed in float64 (widened lanes), so both types get the float64 accuracy.</summary>
internal readonly struct ErfOperator : IUnaryVectorOperator<float>, IUnaryVectorOperator<double>
{
    public double Invoke(double x) => ErrorFunction.Erf(x);
    public Vector256<double> Invoke(Vector256<double> x) => ErrorFunction.Erf(x);
    public Vector512<double> Invoke(Vector512<double> x) => ErrorFunction.Erf(x);

    public float Invoke(float x) => (float)ErrorFunction.Erf(x);

    public Vector256<float> Invoke(Vector256<float> x)
    {
        var (lower, upper) = Vector256.Widen(x);
        return Vector256.Narrow(ErrorFunction.Erf(lower), ErrorFunction.Erf(upper));
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        var (lower, upper) = Vector512.Widen(x);
        return Vector512.Narrow(ErrorFunction.Erf(lower), ErrorFunction.Erf(upper));
    }
}
