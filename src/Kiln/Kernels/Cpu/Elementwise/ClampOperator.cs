using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// min(max(x, low), high), as PyTorch defines clamp: when low &gt; high every element becomes high,
/// and NaN stays NaN. An absent bound is passed as the type's extreme (an infinity for floats).
/// </summary>
internal readonly struct ClampOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, INumber<T>
{
    private readonly T _low;
    private readonly T _high;

    internal ClampOperator(T low, T high)
    {
        _low = low;
        _high = high;
    }

    public T Invoke(T x) => T.Min(T.Max(x, _low), _high);

    public Vector256<T> Invoke(Vector256<T> x)
        => Vector256.Min(Vector256.Max(x, Vector256.Create(_low)), Vector256.Create(_high));

    public Vector512<T> Invoke(Vector512<T> x)
        => Vector512.Min(Vector512.Max(x, Vector512.Create(_low)), Vector512.Create(_high));
}
