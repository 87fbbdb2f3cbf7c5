using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>erf(x) (see <see cref="ErrorFunction"/>).</summary>
internal readonly struct ErfOperator<T> : IUnaryVectorOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => ErrorFunction.Erf(x);
    public Vector256<T> Invoke(Vector256<T> x) => ErrorFunction.Erf(x);
    public Vector512<T> Invoke(Vector512<T> x) => ErrorFunction.Erf(x);
}
