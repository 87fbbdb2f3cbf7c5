using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// One comparison (==, &lt;, ...) for every element type: the scalar twin and the vector forms, whose
/// lanes are all ones where the comparison holds. NaN compares as IEEE 754 says: unequal to
/// everything, and neither less nor greater.
/// </summary>
internal interface IComparisonPredicate
{
    static abstract bool Compare<T>(T x, T y) where T : INumber<T>;
    static abstract Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y);
}
