using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>x where x &gt; 0, else slope * x (NaN stays NaN).</summary>
internal readonly struct LeakyReluOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, INumber<T>
{
    private readonly T _slope;

    internal LeakyReluOperator(T slope) => _slope = slope;

    public T Invoke(T x) => x > T.Zero ? x : x * _slope;

    public Vector256<T> Invoke(Vector256<T> x)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * Vector256.Create(_slope));

    public Vector512<T> Invoke(Vector512<T> x)
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * Vector512.Create(_slope));
}
