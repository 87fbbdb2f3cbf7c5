using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>The comparison kernels on every element type and every length from 0 to 257, against C#'s operators.</summary>
public sealed class ElementwiseComparisonKernelTests
{
    private const int MaxLength = 257;

    // Small integers so that ties are common; floats also get NaN and infinities.
    private static T[] Values<T>(int length, int seed) where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        var x = new T[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = T.CreateTruncating(rng.Next(-3, 4));
            if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            {
                if (i % 7 == 3) x[i] = T.CreateTruncating(double.NaN);
                if (i % 13 == 6) x[i] = T.CreateTruncating(i % 2 == 0 ? double.PositiveInfinity : double.NegativeInfinity);
            }
        }
        return x;
    }

    private static void Check<T, TPredicate>(Func<T, T, bool> naive) where T : unmanaged, INumber<T> where TPredicate : IComparisonPredicate
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = Values<T>(n, 2 * n);
            var y = Values<T>(n, 2 * n + 1);
            var d = new byte[n];
            ComparisonOperator<T, TPredicate>.Invoke(x, y, d);
            for (int i = 0; i < n; i++)
                Assert.True((naive(x[i], y[i]) ? 1 : 0) == d[i], $"{typeof(TPredicate).Name}<{typeof(T).Name}> n={n} i={i}: {x[i]} vs {y[i]} gave {d[i]}");

            T s = n % 5 == 0 ? T.CreateTruncating(double.NaN) : T.CreateTruncating(n % 3 - 1);
            ComparisonOperator<T, TPredicate>.Invoke(x, s, d);
            for (int i = 0; i < n; i++)
                Assert.True((naive(x[i], s) ? 1 : 0) == d[i], $"span-scalar {typeof(TPredicate).Name}<{typeof(T).Name}> n={n} i={i}");
            ComparisonOperator<T, TPredicate>.Invoke(s, y, d);
            for (int i = 0; i < n; i++)
                Assert.True((naive(s, y[i]) ? 1 : 0) == d[i], $"scalar-span {typeof(TPredicate).Name}<{typeof(T).Name}> n={n} i={i}");
        }
    }

    private static void CheckAllPredicates<T>() where T : unmanaged, INumber<T>
    {
        Check<T, EqualPredicate>((a, b) => a == b);
        Check<T, NotEqualPredicate>((a, b) => a != b);
        Check<T, LessThanPredicate>((a, b) => a < b);
        Check<T, LessThanOrEqualPredicate>((a, b) => a <= b);
        Check<T, GreaterThanPredicate>((a, b) => a > b);
        Check<T, GreaterThanOrEqualPredicate>((a, b) => a >= b);
    }

    [Fact] public void Float32_comparison_kernels_match_the_operators() => CheckAllPredicates<float>();
    [Fact] public void Float64_comparison_kernels_match_the_operators() => CheckAllPredicates<double>();
    [Fact] public void Int32_comparison_kernels_match_the_operators() => CheckAllPredicates<int>();
    [Fact] public void Int64_comparison_kernels_match_the_operators() => CheckAllPredicates<long>();
    [Fact] public void Int8_comparison_kernels_match_the_operators() => CheckAllPredicates<sbyte>();
    [Fact] public void UInt8_comparison_kernels_match_the_operators() => CheckAllPredicates<byte>();

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public void Bool_bytes_spread_each_mask_bit_into_its_byte(int count)
    {
        var rng = new Random(count);
        for (int trial = 0; trial < 100; trial++)
        {
            ulong bits = (ulong)rng.NextInt64() ^ ((ulong)rng.NextInt64() << 1);
            var d = new byte[count + 8];
            Array.Fill(d, (byte)0xAA);
            BoolBytes.Store(bits, count, ref d[0]);
            for (int k = 0; k < count; k++) Assert.Equal((byte)(bits >> k & 1), d[k]);
            for (int k = count; k < d.Length; k++) Assert.Equal(0xAA, d[k]);
        }
    }
}
