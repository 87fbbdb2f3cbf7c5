using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

internal readonly struct EqualPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x == y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => Vector256.Equals(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => Vector512.Equals(x, y);
}

internal readonly struct NotEqualPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x != y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => ~Vector256.Equals(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => ~Vector512.Equals(x, y);
}

internal readonly struct LessThanPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x < y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => Vector256.LessThan(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => Vector512.LessThan(x, y);
}

internal readonly struct LessThanOrEqualPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x <= y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => Vector256.LessThanOrEqual(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => Vector512.LessThanOrEqual(x, y);
}

internal readonly struct GreaterThanPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x > y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThan(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThan(x, y);
}

internal readonly struct GreaterThanOrEqualPredicate : IComparisonPredicate
{
    public static bool Compare<T>(T x, T y) where T : INumber<T> => x >= y;
    public static Vector256<T> Compare<T>(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThanOrEqual(x, y);
    public static Vector512<T> Compare<T>(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThanOrEqual(x, y);
}
