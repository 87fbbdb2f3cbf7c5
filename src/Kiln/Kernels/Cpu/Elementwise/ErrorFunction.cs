using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// erf and erfc, which .NET does not provide, in float and double, from three smooth pieces:
/// erf(x) = x A(x^2) for |x| &lt; 2; erfc(x) = e^(-x^2) X(x) for 0 &lt;= x &lt; 2, with X the scaled
/// erfc e^(x^2) erfc(x); and erfc(x) = e^(-x^2) s B(s), s = 1/x, for x &gt;= 2, with B(s) = x e^(x^2)
/// erfc(x) (1/sqrt(pi) at s = 0). A, X and B are Chebyshev interpolants built when the class loads
/// from slow definitions (A from the Maclaurin series, B from Laplace's continued fraction, X from
/// both), with 16, 22 and 20 terms for double (relative error about 1e-13 at worst) and 10, 13 and
/// 10 for float. erfc never subtracts from 1, so it keeps its relative accuracy into the far tail,
/// which Gelu needs for large negative inputs; past x = 26.5, where it is below 1e-306, it is 0.
/// </summary>
internal static class ErrorFunction
{
    private const double Split = 2.0;
    private const double TailLimit = 26.5;
    private const double TailStart = 1 / TailLimit;
    private const double TailEnd = 1 / Split;
    private const double InvSqrtPi = 0.56418958354775628695;

    /// <summary>erf(x) / x at u = x^2 &lt; 4: the Maclaurin series, summed until it stops changing.</summary>
    internal static double SeriesErfOverX(double u)
    {
        double sum = 0, power = 1; // power = (-u)^n / n!
        for (int n = 0; n < 100; n++)
        {
            double term = power / (2 * n + 1);
            if (sum + term == sum) break;
            sum += term;
            power *= -u / (n + 1);
        }
        return 2 * InvSqrtPi * sum;
    }

    /// <summary>e^(x^2) erfc(x) for 0 &lt;= x &lt;= 2, from the series (good to about 2e-14 relative at x = 2).</summary>
    internal static double ScaledErfc(double x) => Math.Exp(x * x) * (1 - x * SeriesErfOverX(x * x));

    /// <summary>
    /// x e^(x^2) erfc(x) at s = 1/x in (0, 1/2]: Laplace's continued fraction
    /// x / sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) to depth 60, run bottom-up as a ratio p/q.
    /// </summary>
    internal static double TailRatio(double s)
    {
        double x = 1 / s, p = x, q = 1;
        for (int k = 60; k >= 1; k--)
        {
            double next = x * p + 0.5 * k * q;
            q = p;
            p = next;
        }
        return InvSqrtPi * x * q / p;
    }

    // The interpolants per element type, and the affine maps of their intervals onto [-1, 1].
    private static class Tables<T> where T : IFloatingPointIeee754<T>
    {
        private static readonly bool Single = typeof(T) == typeof(float);
        internal static readonly T[] Core = Chebyshev.Convert<T>(Chebyshev.Fit(SeriesErfOverX, 0, Split * Split, Single ? 10 : 16));
        internal static readonly T[] Scaled = Chebyshev.Convert<T>(Chebyshev.Fit(ScaledErfc, 0, Split, Single ? 13 : 22));
        internal static readonly T[] Tail = Chebyshev.Convert<T>(Chebyshev.Fit(TailRatio, TailStart, TailEnd, Single ? 10 : 20));
        internal static readonly T CoreScale = T.CreateTruncating(2 / (Split * Split));
        internal static readonly T ScaledScale = T.CreateTruncating(2 / Split);
        internal static readonly T TailScale = T.CreateTruncating(2 / (TailEnd - TailStart));
        internal static readonly T TailOffset = T.CreateTruncating(-(TailEnd + TailStart) / (TailEnd - TailStart));
        internal static readonly T Boundary = T.CreateTruncating(Split);
        internal static readonly T Limit = T.CreateTruncating(TailLimit);
        internal static readonly T Two = T.CreateTruncating(2);
        internal static readonly T Half = T.CreateTruncating(0.5);
        internal static readonly T InvSqrt2 = T.CreateTruncating(0.70710678118654752440);
    }

    internal static T Erf<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T a = T.Abs(x);
        if (a < Tables<T>.Boundary) return x * Chebyshev.Evaluate(Tables<T>.Core, x * x * Tables<T>.CoreScale - T.One);
        return T.CopySign(T.One - ErfcOfMagnitude(a), x);
    }

    internal static T Erfc<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T e = ErfcOfMagnitude(T.Abs(x));
        return x >= T.Zero ? e : Tables<T>.Two - e;
    }

    /// <summary>
    /// The standard normal CDF Phi(x) = erfc(-x / sqrt(2)) / 2. The exponent x^2 / 2 is taken from x
    /// itself, not from the rounded x / sqrt(2): erfc's relative condition number grows like 2 a^2.
    /// </summary>
    internal static T NormalCdf<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T a = T.Abs(x) * Tables<T>.InvSqrt2;
        T hi = x * x, lo = T.FusedMultiplyAdd(x, x, -hi);
        T e = ErfcOfMagnitude(a, hi * Tables<T>.Half, lo * Tables<T>.Half);
        return Tables<T>.Half * (x <= T.Zero ? e : Tables<T>.Two - e);
    }

    // erfc(a) for a >= 0 (NaN stays NaN). e^(-a^2) is taken as e^(-hi) (1 - lo) with hi + lo = a^2
    // exactly, since the rounding of a^2 alone would cost a^2 ulps of relative accuracy.
    private static T ErfcOfMagnitude<T>(T a) where T : IFloatingPointIeee754<T>
    {
        T hi = a * a;
        return ErfcOfMagnitude(a, hi, T.FusedMultiplyAdd(a, a, -hi));
    }

    private static T ErfcOfMagnitude<T>(T a, T hi, T lo) where T : IFloatingPointIeee754<T>
    {
        if (a > Tables<T>.Limit) return T.Zero;
        T scaled;
        if (a < Tables<T>.Boundary)
        {
            scaled = Chebyshev.Evaluate(Tables<T>.Scaled, a * Tables<T>.ScaledScale - T.One);
        }
        else
        {
            T s = T.One / a;
            scaled = s * Chebyshev.Evaluate(Tables<T>.Tail, s * Tables<T>.TailScale + Tables<T>.TailOffset);
        }
        return T.Exp(-hi) * (T.One - lo) * scaled;
    }

    internal static Vector256<T> Erf<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        var a = Vector256.Abs(x);
        var split = Vector256.Create(Tables<T>.Boundary);
        var core = x * Chebyshev.Evaluate(Tables<T>.Core, x * x * Vector256.Create(Tables<T>.CoreScale) - Vector256<T>.One);
        if (Vector256.LessThanAll(a, split)) return core;
        var tail = Vector256.CopySign(Vector256<T>.One - LargeErfc(a), x);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, split), core, tail);
    }

    internal static Vector256<T> Erfc<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        var e = ErfcOfMagnitude(Vector256.Abs(x));
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<T>.Zero), e, Vector256.Create(Tables<T>.Two) - e);
    }

    internal static Vector256<T> NormalCdf<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        var half = Vector256.Create(Tables<T>.Half);
        var a = Vector256.Abs(x) * Vector256.Create(Tables<T>.InvSqrt2);
        var hi = x * x;
        var lo = VectorMath.FusedMultiplyAdd(x, x, -hi);
        var e = ErfcOfMagnitude(a, hi * half, lo * half);
        return half * Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<T>.Zero), e, Vector256.Create(Tables<T>.Two) - e);
    }

    private static Vector256<T> ErfcOfMagnitude<T>(Vector256<T> a) where T : IFloatingPointIeee754<T>
    {
        var hi = a * a;
        return ErfcOfMagnitude(a, hi, VectorMath.FusedMultiplyAdd(a, a, -hi));
    }

    private static Vector256<T> ErfcOfMagnitude<T>(Vector256<T> a, Vector256<T> hi, Vector256<T> lo) where T : IFloatingPointIeee754<T>
    {
        var split = Vector256.Create(Tables<T>.Boundary);
        var decay = VectorMath.Exp(-hi) * (Vector256<T>.One - lo);
        Vector256<T> scaled;
        var small = Vector256.LessThan(a, split);
        if (Vector256.LessThanAll(a, split))
        {
            scaled = Scaled(a);
        }
        else
        {
            scaled = Tail(a);
            if (small != Vector256<T>.Zero) scaled = Vector256.ConditionalSelect(small, Scaled(a), scaled);
        }
        var beyond = Vector256.GreaterThan(a, Vector256.Create(Tables<T>.Limit));
        return Vector256.AndNot(decay * scaled, beyond);
    }

    // erfc(a) for the lanes where a >= 2 (others are garbage): Erf needs only this piece.
    private static Vector256<T> LargeErfc<T>(Vector256<T> a) where T : IFloatingPointIeee754<T>
    {
        var hi = a * a;
        var lo = VectorMath.FusedMultiplyAdd(a, a, -hi);
        var decay = VectorMath.Exp(-hi) * (Vector256<T>.One - lo);
        var beyond = Vector256.GreaterThan(a, Vector256.Create(Tables<T>.Limit));
        return Vector256.AndNot(decay * Tail(a), beyond);
    }

    private static Vector256<T> Scaled<T>(Vector256<T> a) where T : IFloatingPointIeee754<T>
        => Chebyshev.Evaluate(Tables<T>.Scaled, a * Vector256.Create(Tables<T>.ScaledScale) - Vector256<T>.One);

    private static Vector256<T> Tail<T>(Vector256<T> a) where T : IFloatingPointIeee754<T>
    {
        var s = Vector256<T>.One / a;
        return s * Chebyshev.Evaluate(Tables<T>.Tail, s * Vector256.Create(Tables<T>.TailScale) + Vector256.Create(Tables<T>.TailOffset));
    }

    internal static Vector512<T> Erf<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        var a = Vector512.Abs(x);
        var split = Vector512.Create(Tables<T>.Boundary);
        var core = x * Chebyshev.Evaluate(Tables<T>.Core, x * x * Vector512.Create(Tables<T>.CoreScale) - Vector512<T>.One);
        if (Vector512.LessThanAll(a, split)) return core;
        var tail = Vector512.CopySign(Vector512<T>.One - LargeErfc(a), x);
        return Vector512.ConditionalSelect(Vector512.LessThan(a, split), core, tail);
    }

    internal static Vector512<T> Erfc<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        var e = ErfcOfMagnitude(Vector512.Abs(x));
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<T>.Zero), e, Vector512.Create(Tables<T>.Two) - e);
    }

    internal static Vector512<T> NormalCdf<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        var half = Vector512.Create(Tables<T>.Half);
        var a = Vector512.Abs(x) * Vector512.Create(Tables<T>.InvSqrt2);
        var hi = x * x;
        var lo = VectorMath.FusedMultiplyAdd(x, x, -hi);
        var e = ErfcOfMagnitude(a, hi * half, lo * half);
        return half * Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<T>.Zero), e, Vector512.Create(Tables<T>.Two) - e);
    }

    private static Vector512<T> ErfcOfMagnitude<T>(Vector512<T> a) where T : IFloatingPointIeee754<T>
    {
        var hi = a * a;
        return ErfcOfMagnitude(a, hi, VectorMath.FusedMultiplyAdd(a, a, -hi));
    }

    private static Vector512<T> ErfcOfMagnitude<T>(Vector512<T> a, Vector512<T> hi, Vector512<T> lo) where T : IFloatingPointIeee754<T>
    {
        var split = Vector512.Create(Tables<T>.Boundary);
        var decay = VectorMath.Exp(-hi) * (Vector512<T>.One - lo);
        Vector512<T> scaled;
        var small = Vector512.LessThan(a, split);
        if (Vector512.LessThanAll(a, split))
        {
            scaled = Scaled(a);
        }
        else
        {
            scaled = Tail(a);
            if (small != Vector512<T>.Zero) scaled = Vector512.ConditionalSelect(small, Scaled(a), scaled);
        }
        var beyond = Vector512.GreaterThan(a, Vector512.Create(Tables<T>.Limit));
        return Vector512.AndNot(decay * scaled, beyond);
    }

    // erfc(a) for the lanes where a >= 2 (others are garbage): Erf needs only this piece.
    private static Vector512<T> LargeErfc<T>(Vector512<T> a) where T : IFloatingPointIeee754<T>
    {
        var hi = a * a;
        var lo = VectorMath.FusedMultiplyAdd(a, a, -hi);
        var decay = VectorMath.Exp(-hi) * (Vector512<T>.One - lo);
        var beyond = Vector512.GreaterThan(a, Vector512.Create(Tables<T>.Limit));
        return Vector512.AndNot(decay * Tail(a), beyond);
    }

    private static Vector512<T> Scaled<T>(Vector512<T> a) where T : IFloatingPointIeee754<T>
        => Chebyshev.Evaluate(Tables<T>.Scaled, a * Vector512.Create(Tables<T>.ScaledScale) - Vector512<T>.One);

    private static Vector512<T> Tail<T>(Vector512<T> a) where T : IFloatingPointIeee754<T>
    {
        var s = Vector512<T>.One / a;
        return s * Chebyshev.Evaluate(Tables<T>.Tail, s * Vector512.Create(Tables<T>.TailScale) + Vector512.Create(Tables<T>.TailOffset));
    }
}
