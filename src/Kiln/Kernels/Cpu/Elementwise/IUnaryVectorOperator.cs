using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The math of one elementwise function at each width: the scalar twin (which also runs the tail, and
/// is what the vector forms are tested against) and the Vector256 / Vector512 forms. Implemented by a
/// small struct so its parameters (a slope, clamp bounds) travel with it and the calls inline;
/// <see cref="UnaryVectorLoop"/> applies it to spans.
/// </summary>
internal interface IUnaryVectorOperator<T> where T : unmanaged
{
    T Invoke(T x);
    Vector256<T> Invoke(Vector256<T> x);
    Vector512<T> Invoke(Vector512<T> x);
}
