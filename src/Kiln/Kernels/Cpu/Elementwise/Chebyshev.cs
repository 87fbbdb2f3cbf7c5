using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Chebyshev interpolation on an interval [a, b]: fitting (at class-load time, from a slow exact
/// function) and evaluation by Clenshaw's recurrence, which stays stable at any degree. Each step is
/// one fused multiply-add on the dependency chain (c_k - b_(k+2) is ready a step early), since these
/// loops are latency-bound.
/// </summary>
internal static class Chebyshev
{
    /// <summary>
    /// Coefficients c_0..c_(n-1) of the polynomial that interpolates <paramref name="f"/> at the n
    /// Chebyshev nodes of [<paramref name="a"/>, <paramref name="b"/>], so f(x) is about sum c_k T_k(t),
    /// t = (2x - a - b) / (b - a).
    /// </summary>
    internal static double[] Fit(Func<double, double> f, double a, double b, int n)
    {
        var values = new double[n];
        for (int k = 0; k < n; k++)
            values[k] = f((b - a) / 2 * Math.Cos(Math.PI * (k + 0.5) / n) + (a + b) / 2);
        var c = new double[n];
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int k = 0; k < n; k++) sum += values[k] * Math.Cos(Math.PI * j * (k + 0.5) / n);
            c[j] = 2 * sum / n;
        }
        c[0] /= 2;
        return c;
    }

    /// <summary>The coefficients in the element type the kernels compute in.</summary>
    internal static T[] Convert<T>(double[] c) where T : INumberBase<T>
    {
        var result = new T[c.Length];
        for (int i = 0; i < c.Length; i++) result[i] = T.CreateTruncating(c[i]);
        return result;
    }

    /// <summary>sum c_k T_k(t) for t in [-1, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Evaluate<T>(T[] c, T t) where T : IFloatingPointIeee754<T>
    {
        T t2 = t + t, b1 = T.Zero, b2 = T.Zero;
        for (int k = c.Length - 1; k >= 1; k--)
        {
            T b0 = T.FusedMultiplyAdd(t2, b1, c[k] - b2);
            b2 = b1;
            b1 = b0;
        }
        return T.FusedMultiplyAdd(t, b1, c[0] - b2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Evaluate<T>(T[] c, Vector256<T> t) where T : IFloatingPointIeee754<T>
    {
        var t2 = t + t;
        var b1 = Vector256<T>.Zero;
        var b2 = Vector256<T>.Zero;
        for (int k = c.Length - 1; k >= 1; k--)
        {
            var b0 = VectorMath.FusedMultiplyAdd(t2, b1, Vector256.Create(c[k]) - b2);
            b2 = b1;
            b1 = b0;
        }
        return VectorMath.FusedMultiplyAdd(t, b1, Vector256.Create(c[0]) - b2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Evaluate<T>(T[] c, Vector512<T> t) where T : IFloatingPointIeee754<T>
    {
        var t2 = t + t;
        var b1 = Vector512<T>.Zero;
        var b2 = Vector512<T>.Zero;
        for (int k = c.Length - 1; k >= 1; k--)
        {
            var b0 = VectorMath.FusedMultiplyAdd(t2, b1, Vector512.Create(c[k]) - b2);
            b2 = b1;
            b1 = b0;
        }
        return VectorMath.FusedMultiplyAdd(t, b1, Vector512.Create(c[0]) - b2);
    }
}
