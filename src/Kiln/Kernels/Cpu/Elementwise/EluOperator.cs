using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>x where x &gt; 0, else alpha * (e^x - 1), with e^x - 1 accurate near 0 (NaN stays NaN).</summary>
internal readonly struct EluOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _alpha;

    internal EluOperator(T alpha) => _alpha = alpha;

    public T Invoke(T x) => x > T.Zero ? x : _alpha * VectorMath.ExpM1(x);

    // exp of the positive lanes is computed and discarded: min(x, 0) keeps it from overflowing.
    public Vector256<T> Invoke(Vector256<T> x)
    {
        var negative = Vector256.Create(_alpha) * VectorMath.ExpM1(Vector256.Min(x, Vector256<T>.Zero));
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, negative);
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        var negative = Vector512.Create(_alpha) * VectorMath.ExpM1(Vector512.Min(x, Vector512<T>.Zero));
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, negative);
    }
}
