using System.Numerics;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// Every vector form of every elementwise operator, called directly lane by lane against its scalar
/// twin. Where a width is not accelerated .NET runs it in software, so the Vector512 forms are
/// proven even on machines without AVX-512 (the loops only pick them where it is present).
/// </summary>
public sealed class ElementwiseVectorFormKernelTests
{
    private static T[] Inputs<T>(int count, int seed) where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 40, -40, 1e-20];
        var x = new T[count];
        for (int i = 0; i < count; i++)
            x[i] = T.CreateTruncating(i % 5 == 2 ? specials[(seed + i) % specials.Length] : (rng.NextDouble() * 2 - 1) * 6);
        return x;
    }

    private static void AssertLanes<T>(T expected, T actual, double rtol, string what) where T : unmanaged, INumber<T>
    {
        double e = double.CreateTruncating(expected), a = double.CreateTruncating(actual);
        if (double.IsNaN(e) && double.IsNaN(a)) return;
        Assert.True(e == a || Math.Abs(e - a) <= rtol * Math.Abs(e) + 1e-300, $"{what}: lane {a:G17}, scalar {e:G17}");
    }

    private static void CheckForms<T, TOp>(TOp op, double rtol) where T : unmanaged, INumber<T> where TOp : struct, IUnaryVectorOperator<T>
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var x = Inputs<T>(Vector512<T>.Count, seed);
            var v256 = op.Invoke(Vector256.Create<T>(x.AsSpan(0, Vector256<T>.Count)));
            var v512 = op.Invoke(Vector512.Create<T>(x));
            for (int i = 0; i < x.Length; i++)
            {
                var scalar = op.Invoke(x[i]);
                if (i < Vector256<T>.Count) AssertLanes(scalar, v256[i], rtol, $"{typeof(TOp).Name} Vector256 x={x[i]}");
                AssertLanes(scalar, v512[i], rtol, $"{typeof(TOp).Name} Vector512 x={x[i]}");
            }
        }
    }

    [Fact]
    public void Activation_operators_vector_forms_match_their_scalar_twins()
    {
        CheckForms<float, ReluOperator<float>>(default, 0);
        CheckForms<double, ReluOperator<double>>(default, 0);
        CheckForms<float, LeakyReluOperator<float>>(new(0.2f), 0);
        CheckForms<double, LeakyReluOperator<double>>(new(0.2), 0);
        CheckForms<float, EluOperator<float>>(new(1.5f), 1e-6);
        CheckForms<double, EluOperator<double>>(new(1.5), 1e-14);
        CheckForms<float, GeluTanhOperator<float>>(default, 1e-6);
        CheckForms<double, GeluTanhOperator<double>>(default, 1e-14);
        CheckForms<float, GeluOperator<float>>(default, 1e-6);
        CheckForms<double, GeluOperator<double>>(default, 1e-14);
        CheckForms<float, ErfOperator<float>>(default, 1e-6);
        CheckForms<double, ErfOperator<double>>(default, 1e-14);
    }

    [Fact]
    public void ExpM1_vector_forms_match_the_scalar_form_and_are_accurate_near_zero()
    {
        CheckForms<float, ExpM1Operator<float>>(default, 1e-6);
        CheckForms<double, ExpM1Operator<double>>(default, 1e-15);
        foreach (var x in new[] { 1e-12, -1e-8, 3e-5, -0.2, 0.34999, 0.35, -0.36, 2.0 })
        {
            double expected = Kiln.Ops.EluOp.ReferenceExpM1(x);
            Assert.True(Math.Abs(VectorMath.ExpM1(x) / expected - 1) < 1e-15, $"ExpM1({x}) = {VectorMath.ExpM1(x):G17}, expected {expected:G17}");
            Assert.True(Math.Abs(VectorMath.ExpM1((float)x) / expected - 1) < 2e-7, $"float ExpM1({x}) = {VectorMath.ExpM1((float)x):G9}");
        }
        Assert.Equal(0f, VectorMath.ExpM1(Vector256.Create(0f)).GetElement(0));
    }

    [Fact]
    public void ExpFast_is_within_two_ulp_of_exp_and_keeps_the_special_values()
    {
        var rng = new Random(3);
        var inputs = new List<float> { 0f, -0f, 1f, -1f, -86.99f, -87f, 88.7f, 88.72f, 0.3465736f, -0.3465736f, 0.3466f, 1e-8f };
        for (int i = 0; i < 4000; i++) inputs.Add((float)(rng.NextDouble() * 175 - 87));
        while (inputs.Count % Vector256<float>.Count != 0) inputs.Add(0.5f);
        for (int start = 0; start < inputs.Count; start += Vector256<float>.Count)
        {
            var v = VectorMath.ExpFast(Vector256.Create<float>(inputs.ToArray().AsSpan(start, Vector256<float>.Count)));
            for (int lane = 0; lane < Vector256<float>.Count; lane++)
            {
                float x = inputs[start + lane];
                double expected = Math.Exp(x);
                double ulp = MathF.BitIncrement((float)expected) - (float)expected;
                Assert.True(Math.Abs(v[lane] - expected) <= 2 * ulp, $"ExpFast({x:R}) = {v[lane]:R}, exp = {expected:R}");
            }
        }
        var special = VectorMath.ExpFast(Vector256.Create(float.NegativeInfinity, -87.5f, -200f, float.PositiveInfinity, 88.8f, float.NaN, 0f, -1e-30f));
        Assert.Equal([0f, 0f, 0f, float.PositiveInfinity, float.PositiveInfinity], [special[0], special[1], special[2], special[3], special[4]]);
        Assert.True(float.IsNaN(special[5]));
        Assert.Equal(1f, special[6]);
        Assert.Equal(1f, special[7]);
        Assert.Equal(Math.Exp(-0.5), VectorMath.ExpFast(Vector256.Create(-0.5)).GetElement(0), 15);
    }

    private readonly struct ExpM1Operator<T> : IUnaryVectorOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => VectorMath.ExpM1(x);
        public Vector256<T> Invoke(Vector256<T> x) => VectorMath.ExpM1(x);
        public Vector512<T> Invoke(Vector512<T> x) => VectorMath.ExpM1(x);
    }

    [Fact]
    public void Clamp_operator_vector_forms_match_the_scalar_twin()
    {
        CheckForms<float, ClampOperator<float>>(new(-1, 2.5f), 0);
        CheckForms<double, ClampOperator<double>>(new(3, -3), 0);
        CheckForms<int, ClampOperator<int>>(new(-2, 4), 0);
        CheckForms<long, ClampOperator<long>>(new(-2, 4), 0);
    }

    private static void CheckPredicate<T, TPredicate>() where T : unmanaged, INumber<T> where TPredicate : IComparisonPredicate
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var x = Inputs<T>(Vector512<T>.Count, seed);
            var y = Inputs<T>(Vector512<T>.Count, seed + 100);
            for (int i = 0; i < x.Length; i += 3) y[i] = x[i];
            var bits256 = TPredicate.Compare(Vector256.Create<T>(x.AsSpan(0, Vector256<T>.Count)), Vector256.Create<T>(y.AsSpan(0, Vector256<T>.Count))).ExtractMostSignificantBits();
            var bits512 = TPredicate.Compare(Vector512.Create<T>(x), Vector512.Create<T>(y)).ExtractMostSignificantBits();
            for (int i = 0; i < x.Length; i++)
            {
                bool expected = TPredicate.Compare(x[i], y[i]);
                if (i < Vector256<T>.Count) Assert.Equal(expected, (bits256 >> i & 1) != 0);
                Assert.Equal(expected, (bits512 >> i & 1) != 0);
            }
        }
    }

    private static void CheckPredicates<T>() where T : unmanaged, INumber<T>
    {
        CheckPredicate<T, EqualPredicate>();
        CheckPredicate<T, NotEqualPredicate>();
        CheckPredicate<T, LessThanPredicate>();
        CheckPredicate<T, LessThanOrEqualPredicate>();
        CheckPredicate<T, GreaterThanPredicate>();
        CheckPredicate<T, GreaterThanOrEqualPredicate>();
    }

    [Fact]
    public void Comparison_predicates_vector_forms_match_their_scalar_twins()
    {
        CheckPredicates<float>();
        CheckPredicates<double>();
        CheckPredicates<int>();
        CheckPredicates<long>();
        CheckPredicates<sbyte>();
        CheckPredicates<byte>();
    }

    private static void CheckMasks<T>() where T : unmanaged
    {
        var rng = new Random(typeof(T).Name.Length);
        for (int trial = 0; trial < 50; trial++)
        {
            var c = new byte[64];
            for (int i = 0; i < c.Length; i++) c[i] = (byte)(rng.Next(2) == 0 ? 0 : rng.Next(1, 256));
            var m256 = WhereOperator<T>.Mask256(ref c[0]).AsByte();
            var m512 = WhereOperator<T>.Mask512(ref c[0]).AsByte();
            int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            for (int b = 0; b < 64; b++)
            {
                byte expected = c[b / size] != 0 ? (byte)0xFF : (byte)0;
                if (b < 32) Assert.Equal(expected, m256[b]);
                Assert.Equal(expected, m512[b]);
            }
        }
    }

    [Fact]
    public void Where_masks_widen_condition_bytes_to_full_lanes()
    {
        CheckMasks<byte>();
        CheckMasks<uint>();
        CheckMasks<ulong>();
    }
}
