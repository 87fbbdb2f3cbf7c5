using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Vector math that .NET provides only per element type, or not accurately enough: generic Exp (the
/// type tests fold away when the JIT specializes) and ExpM1.
/// </summary>
internal static class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Exp<T>(Vector256<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector256.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Exp(x.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Exp of {typeof(T).Name} vectors");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Exp<T>(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector512.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Exp(x.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Exp of {typeof(T).Name} vectors");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> FusedMultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"FusedMultiplyAdd of {typeof(T).Name} vectors");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> FusedMultiplyAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"FusedMultiplyAdd of {typeof(T).Name} vectors");
    }

    // e^x - 1 loses all relative accuracy near 0 when computed as exp(x) - 1 (and .NET's float
    // exp(0) is 1 + 1 ulp). Below |x| = 0.35 its Taylor polynomial is used instead; above, exp(x) - 1
    // is at least 0.29 in size, so the subtraction is benign.
    private const double ExpM1Split = 0.35;

    // 1/k! for k = 1..n (index 0 unused): to x^14 for double, x^8 for float, truncation under
    // 1e-17 and 1e-9 relative at |x| = 0.35.
    private static class Taylor<T> where T : IFloatingPointIeee754<T>
    {
        internal static readonly T[] Coefficients = Chebyshev.Convert<T>(BuildTaylor(typeof(T) == typeof(float) ? 8 : 14));
        internal static readonly T Split = T.CreateTruncating(ExpM1Split);
    }

    private static double[] BuildTaylor(int terms)
    {
        var c = new double[terms + 1];
        double factorial = 1;
        for (int k = 1; k <= terms; k++)
        {
            factorial *= k;
            c[k] = 1 / factorial;
        }
        return c;
    }

    /// <summary>e^x - 1, accurate near 0.</summary>
    internal static T ExpM1<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (!(T.Abs(x) < Taylor<T>.Split)) return T.Exp(x) - T.One;
        var c = Taylor<T>.Coefficients;
        var p = c[^1];
        for (int k = c.Length - 2; k >= 1; k--) p = T.FusedMultiplyAdd(p, x, c[k]);
        return p * x;
    }

    /// <summary>e^x - 1, accurate near 0.</summary>
    internal static Vector256<T> ExpM1<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        var split = Vector256.Create(Taylor<T>.Split);
        var abs = Vector256.Abs(x);
        if (Vector256.GreaterThanOrEqualAll(abs, split)) return Exp(x) - Vector256<T>.One;
        var c = Taylor<T>.Coefficients;
        var p = Vector256.Create(c[^1]);
        for (int k = c.Length - 2; k >= 1; k--) p = FusedMultiplyAdd(p, x, Vector256.Create(c[k]));
        p *= x;
        if (Vector256.LessThanAll(abs, split)) return p;
        return Vector256.ConditionalSelect(Vector256.LessThan(abs, split), p, Exp(x) - Vector256<T>.One);
    }

    /// <summary>e^x - 1, accurate near 0.</summary>
    internal static Vector512<T> ExpM1<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        var split = Vector512.Create(Taylor<T>.Split);
        var abs = Vector512.Abs(x);
        if (Vector512.GreaterThanOrEqualAll(abs, split)) return Exp(x) - Vector512<T>.One;
        var c = Taylor<T>.Coefficients;
        var p = Vector512.Create(c[^1]);
        for (int k = c.Length - 2; k >= 1; k--) p = FusedMultiplyAdd(p, x, Vector512.Create(c[k]));
        p *= x;
        if (Vector512.LessThanAll(abs, split)) return p;
        return Vector512.ConditionalSelect(Vector512.LessThan(abs, split), p, Exp(x) - Vector512<T>.One);
    }
}
