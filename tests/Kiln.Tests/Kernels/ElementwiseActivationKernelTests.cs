using System.Numerics;
using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The vectorized activation operators, run through <see cref="UnaryVectorLoop"/> on every length
/// from 0 to 257 (so each vector width's body and tail are exercised), against naive scalar loops.
/// </summary>
public sealed class ElementwiseActivationKernelTests
{
    private const int MaxLength = 257;

    // Uniform values in [-scale, scale] with special values sprinkled in.
    private static double[] Inputs(int length, int seed, double scale)
    {
        var rng = new Random(seed);
        var x = new double[length];
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1e-30, -1e-30, 80, -80];
        for (int i = 0; i < length; i++)
            x[i] = i % 11 == 5 ? specials[i / 11 % specials.Length] : (rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    private static void AssertClose(double expected, double actual, double rtol, double atol, string what)
    {
        if (double.IsNaN(expected) && double.IsNaN(actual)) return;
        if (expected == actual) return;
        Assert.True(Math.Abs(expected - actual) <= atol + rtol * Math.Abs(expected), $"{what}: {actual:G17}, expected {expected:G17}");
    }

    /// <summary>Runs the operator on float64 and float32 copies of the inputs of every length, in place and out of place.</summary>
    private static void Check<TOp32, TOp64>(TOp32 op32, TOp64 op64, Func<double, double> naive, double scale, double rtol32, double rtol64, double atol = 0)
        where TOp32 : struct, IUnaryVectorOperator<float>
        where TOp64 : struct, IUnaryVectorOperator<double>
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = Inputs(n, n, scale);
            var y = new double[n];
            UnaryVectorLoop.Run<double, TOp64>(x, y, op64);
            var inPlace = (double[])x.Clone();
            UnaryVectorLoop.Run<double, TOp64>(inPlace, inPlace, op64);
            for (int i = 0; i < n; i++)
            {
                AssertClose(naive(x[i]), y[i], rtol64, atol, $"float64 n={n} x[{i}]={x[i]:R}");
                Assert.Equal(y[i], inPlace[i]);
            }

            var xf = Array.ConvertAll(x, v => (float)v);
            var yf = new float[n];
            UnaryVectorLoop.Run<float, TOp32>(xf, yf, op32);
            for (int i = 0; i < n; i++)
                AssertClose((float)naive(xf[i]), yf[i], rtol32, atol, $"float32 n={n} x[{i}]={xf[i]:R}");
        }
    }

    [Fact]
    public void Relu_kernel_matches_a_scalar_loop_and_keeps_NaN()
    {
        Check(default(ReluOperator<float>), default(ReluOperator<double>), x => double.IsNaN(x) ? x : Math.Max(x, 0), 5, 0, 0);
        CheckIntegers<int, ReluOperator<int>>(default, v => Math.Max(v, 0));
        CheckIntegers<long, ReluOperator<long>>(default, v => Math.Max(v, 0L));
        var y = new float[9];
        UnaryVectorLoop.Run<float, ReluOperator<float>>([float.NaN, -1, 2, -0f, float.NegativeInfinity, 3, float.NaN, -5, 7], y, default);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[6]));
        Assert.Equal([0f, 2, 0, 3, 0, 7], new[] { y[1], y[2], y[4], y[5], y[7], y[8] });
    }

    [Fact]
    public void LeakyRelu_kernel_matches_a_scalar_loop()
        => Check(new LeakyReluOperator<float>(0.1f), new LeakyReluOperator<double>(0.1), x => x > 0 ? x : 0.1 * x, 5, 3e-7, 0);

    // Relative tolerances with no absolute slack: e^x - 1 must stay accurate for tiny negative x.
    [Fact]
    public void Elu_kernel_matches_a_scalar_loop()
        => Check(new EluOperator<float>(0.7f), new EluOperator<double>(0.7), x => x > 0 ? x : 0.7 * EluOp.ReferenceExpM1(x), 5, 1e-6, 4e-15);

    [Fact]
    public void Gelu_tanh_kernel_matches_the_tanh_formula()
        => Check(default(GeluTanhOperator<float>), default(GeluTanhOperator<double>),
            x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), 6, 1e-5, 1e-13, 1e-12);

    // float32 exp of an argument near 10 carries about 1e-6 relative error, inherent in the tanh form.
    // The erf reference sums an alternating series, which loses about 1e-13 absolute near |x| = 3:
    // the tolerances below are the reference's; the kernels' own accuracy in the tail is checked
    // against the C library in ElementwiseErrorFunctionKernelTests.
    [Fact]
    public void Gelu_kernel_matches_the_erf_formula()
        => Check(default(GeluOperator<float>), default(GeluOperator<double>),
            x => 0.5 * x * (1 + ErfOp.ReferenceErf(x / Math.Sqrt(2))), 6, 1e-6, 1e-12, 1e-13);

    [Fact]
    public void Erf_kernel_matches_the_series_reference()
        => Check(default(ErfOperator<float>), default(ErfOperator<double>), ErfOp.ReferenceErf, 4, 3e-7, 1e-13, 1e-13);

    [Fact]
    public void Clamp_kernel_matches_min_of_max_for_floats_and_integers()
    {
        Check(new ClampOperator<float>(-1.5f, 2), new ClampOperator<double>(-1.5, 2), x => Math.Min(Math.Max(x, -1.5), 2), 4, 0, 0);
        Check(new ClampOperator<float>(1, -1), new ClampOperator<double>(1, -1), x => Math.Min(Math.Max(x, 1), -1), 4, 0, 0);
        Check(new ClampOperator<float>(float.NegativeInfinity, 0.5f), new ClampOperator<double>(double.NegativeInfinity, 0.5),
            x => Math.Min(x, 0.5), 4, 0, 0);
        CheckIntegers<int, ClampOperator<int>>(new(-7, 20), v => Math.Clamp(v, -7, 20));
        CheckIntegers<long, ClampOperator<long>>(new(-7, 20), v => Math.Clamp(v, -7L, 20L));
        CheckIntegers<int, LeakyReluOperator<int>>(new(3), v => v > 0 ? v : 3 * v);
    }

    private static void CheckIntegers<T, TOp>(TOp op, Func<T, T> naive)
        where T : unmanaged, INumber<T>
        where TOp : struct, IUnaryVectorOperator<T>
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var rng = new Random(n);
            var x = new T[n];
            for (int i = 0; i < n; i++) x[i] = T.CreateTruncating(rng.Next(-50, 50));
            var y = new T[n];
            UnaryVectorLoop.Run<T, TOp>(x, y, op);
            for (int i = 0; i < n; i++) Assert.Equal(naive(x[i]), y[i]);
        }
    }

    [Fact]
    public void Unary_loop_rejects_spans_of_different_lengths()
        => Assert.Throws<ArgumentException>(() => UnaryVectorLoop.Run<double, LeakyReluOperator<double>>(new double[3], new double[4], default));
}
