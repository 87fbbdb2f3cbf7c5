using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Exact Gelu: x * Phi(x), with Phi computed from erfc rather than 1 + erf so large negative inputs
/// keep their relative accuracy (see <see cref="ErrorFunction.NormalCdf{T}(T)"/>).
/// </summary>
internal readonly struct GeluOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => x * ErrorFunction.NormalCdf(x);
    public Vector256<T> Invoke(Vector256<T> x) => x * ErrorFunction.NormalCdf(x);
    public Vector512<T> Invoke(Vector512<T> x) => x * ErrorFunction.NormalCdf(x);
}
