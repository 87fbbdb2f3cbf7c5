using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// erf and erfc in float64, which .NET does not provide. Below |x| = 2 the Maclaurin series
/// erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)) (30 terms, Horner in x^2); from 2 on,
/// Laplace's continued fraction erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
/// to depth 50, run bottom-up as a ratio p/q so only one division remains. Relative error below
/// 2e-13 for erfc and 1e-15 for erf; erfc keeps its relative accuracy far into the tail, which
/// Gelu needs for large negative inputs.
/// </summary>
internal static class ErrorFunction
{
    private const double Split = 2.0;
    private const int FractionDepth = 50;
    // Past this erfc(x) < 1e-308 and is taken as 0 (so Gelu(-inf) is NaN, as in PyTorch, not -inf);
    // clamping the argument there also keeps p (about x^51) finite in the discarded lanes.
    private const double TailLimit = 26.5;
    private const double InvSqrtPi = 0.56418958354775628695;

    private static readonly double[] Series = BuildSeries(30);

    private static double[] BuildSeries(int terms)
    {
        var c = new double[terms];
        double factorial = 1;
        for (int n = 0; n < terms; n++)
        {
            if (n > 0) factorial *= n;
            c[n] = 2 * InvSqrtPi * (n % 2 == 0 ? 1 : -1) / (factorial * (2 * n + 1));
        }
        return c;
    }

    internal static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a < Split) return SeriesErf(x);
        return Math.CopySign(1 - Tail(a), x);
    }

    internal static double Erfc(double x)
    {
        double a = Math.Abs(x);
        if (a < Split) return 1 - SeriesErf(x);
        double t = Tail(a);
        return x >= 0 ? t : 2 - t;
    }

    private static double SeriesErf(double x)
    {
        double u = x * x, p = 0;
        var c = Series;
        for (int n = c.Length - 1; n >= 0; n--) p = Math.FusedMultiplyAdd(p, u, c[n]);
        return x * p;
    }

    // erfc(a) for a >= Split (NaN stays NaN).
    private static double Tail(double a)
    {
        if (a > TailLimit) return 0;
        double p = a, q = 1;
        for (int k = FractionDepth; k >= 1; k--)
        {
            double next = Math.FusedMultiplyAdd(a, p, 0.5 * k * q);
            q = p;
            p = next;
        }
        return Math.Exp(-a * a) * InvSqrtPi * q / p;
    }

    internal static Vector256<double> Erf(Vector256<double> x)
    {
        var a = Vector256.Abs(x);
        var split = Vector256.Create(Split);
        if (Vector256.LessThanAll(a, split)) return SeriesErf(x);
        var tail = Vector256.CopySign(Vector256<double>.One - Tail(a), x);
        if (Vector256.GreaterThanOrEqualAll(a, split)) return tail;
        return Vector256.ConditionalSelect(Vector256.LessThan(a, split), SeriesErf(x), tail);
    }

    internal static Vector256<double> Erfc(Vector256<double> x)
    {
        var a = Vector256.Abs(x);
        var split = Vector256.Create(Split);
        if (Vector256.LessThanAll(a, split)) return Vector256<double>.One - SeriesErf(x);
        var t = Tail(a);
        var tail = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero), t, Vector256.Create(2.0) - t);
        if (Vector256.GreaterThanOrEqualAll(a, split)) return tail;
        return Vector256.ConditionalSelect(Vector256.LessThan(a, split), Vector256<double>.One - SeriesErf(x), tail);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> SeriesErf(Vector256<double> x)
    {
        var u = x * x;
        var p = Vector256<double>.Zero;
        var c = Series;
        for (int n = c.Length - 1; n >= 0; n--) p = Vector256.FusedMultiplyAdd(p, u, Vector256.Create(c[n]));
        return x * p;
    }

    private static Vector256<double> Tail(Vector256<double> a)
    {
        var limit = Vector256.Create(TailLimit);
        var beyond = Vector256.GreaterThan(a, limit);
        a = Vector256.Min(a, limit);
        var p = a;
        var q = Vector256<double>.One;
        for (int k = FractionDepth; k >= 1; k--)
        {
            var next = Vector256.FusedMultiplyAdd(a, p, Vector256.Create(0.5 * k) * q);
            q = p;
            p = next;
        }
        return Vector256.AndNot(Vector256.Exp(-(a * a)) * Vector256.Create(InvSqrtPi) * q / p, beyond);
    }

    internal static Vector512<double> Erf(Vector512<double> x)
    {
        var a = Vector512.Abs(x);
        var split = Vector512.Create(Split);
        if (Vector512.LessThanAll(a, split)) return SeriesErf(x);
        var tail = Vector512.CopySign(Vector512<double>.One - Tail(a), x);
        if (Vector512.GreaterThanOrEqualAll(a, split)) return tail;
        return Vector512.ConditionalSelect(Vector512.LessThan(a, split), SeriesErf(x), tail);
    }

    internal static Vector512<double> Erfc(Vector512<double> x)
    {
        var a = Vector512.Abs(x);
        var split = Vector512.Create(Split);
        if (Vector512.LessThanAll(a, split)) return Vector512<double>.One - SeriesErf(x);
        var t = Tail(a);
        var tail = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<double>.Zero), t, Vector512.Create(2.0) - t);
        if (Vector512.GreaterThanOrEqualAll(a, split)) return tail;
        return Vector512.ConditionalSelect(Vector512.LessThan(a, split), Vector512<double>.One - SeriesErf(x), tail);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> SeriesErf(Vector512<double> x)
    {
        var u = x * x;
        var p = Vector512<double>.Zero;
        var c = Series;
        for (int n = c.Length - 1; n >= 0; n--) p = Vector512.FusedMultiplyAdd(p, u, Vector512.Create(c[n]));
        return x * p;
    }

    private static Vector512<double> Tail(Vector512<double> a)
    {
        var limit = Vector512.Create(TailLimit);
        var beyond = Vector512.GreaterThan(a, limit);
        a = Vector512.Min(a, limit);
        var p = a;
        var q = Vector512<double>.One;
        for (int k = FractionDepth; k >= 1; k--)
        {
            var next = Vector512.FusedMultiplyAdd(a, p, Vector512.Create(0.5 * k) * q);
            q = p;
            p = next;
        }
        return Vector512.AndNot(Vector512.Exp(-(a * a)) * Vector512.Create(InvSqrtPi) * q / p, beyond);
    }
}
