using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Gelu's tanh approximation 0.5 * x * (1 + tanh(u)), u = sqrt(2/pi) * (x + 0.044715 x^3), computed
/// as x / (1 + e^(-2u)) (the same value, since 0.5 * (1 + tanh(u)) = sigmoid(2u)) with one exp.
/// </summary>
internal readonly struct GeluTanhOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // -2 * sqrt(2/pi) and -2 * sqrt(2/pi) * 0.044715: the exponent is x * (A + B x^2).
    private static readonly T A = T.CreateTruncating(-1.5957691216057307117);
    private static readonly T B = T.CreateTruncating(-1.5957691216057307117 * 0.044715);

    public T Invoke(T x) => x / (T.One + T.Exp(x * (A + B * x * x)));

    public Vector256<T> Invoke(Vector256<T> x)
    {
        var exponent = x * (Vector256.Create(A) + Vector256.Create(B) * x * x);
        return x / (Vector256<T>.One + VectorMath.Exp(exponent));
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        var exponent = x * (Vector512.Create(A) + Vector512.Create(B) * x * x);
        return x / (Vector512<T>.One + VectorMath.Exp(exponent));
    }
}
