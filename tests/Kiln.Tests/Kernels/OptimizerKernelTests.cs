using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The fused optimizer kernels against plain scalar loops written here (PyTorch's order of operations, with
/// the subnormal flush at the same places): the same bits on every length from 0 to 257, so every vector width
/// and tail agrees, on data with zeros and subnormal values mixed in; the same bits for any thread count; and
/// state that decays through the subnormal range comes out 0 or normal, never subnormal.
/// </summary>
public sealed unsafe class OptimizerKernelTests
{
    private const int MaxLength = 257;

    // ---- scalar references ----

    private static T Flush<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.Abs(x) < SubnormalFlush.SmallestNormal<T>() ? T.Zero : x;

    private static T C<T>(double v) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateTruncating(v);

    private static void AdamReference<T>(T[] p, T[] grad, T[] m, T[] v, T[]? vMax, in AdamCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T g = Flush(grad[i]);
            if (c.Maximize) g = -g;
            T x = p[i];
            if (c.ParamScale is double scale) x *= C<T>(scale);
            else if (c.WeightDecay != 0) g += C<T>(c.WeightDecay) * x;
            m[i] = Flush(Flush(m[i]) * C<T>(c.Beta1) + C<T>(1 - c.Beta1) * g);
            T square = Flush(C<T>(1 - c.Beta2) * g * g);
            v[i] = Flush(Flush(v[i]) * C<T>(c.Beta2) + square);
            T second = v[i];
            if (vMax is not null) second = vMax[i] = T.Max(Flush(vMax[i]), v[i]);
            T denominator = T.Sqrt(second) / C<T>(c.BiasCorrection2Sqrt) + C<T>(c.Eps);
            p[i] = x + C<T>(c.NegativeStepSize) * m[i] / denominator;
        }
    }

    private static void SgdReference<T>(T[] p, T[] grad, T[]? buffer, in SgdCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T d = Flush(grad[i]);
            if (c.Maximize) d = -d;
            if (c.WeightDecay != 0) d += C<T>(c.WeightDecay) * p[i];
            if (c.Momentum != 0)
            {
                buffer![i] = c.InitializeBuffer ? Flush(d) : Flush(Flush(buffer[i]) * C<T>(c.Momentum) + C<T>(1 - c.Dampening) * d);
                d = c.Nesterov ? d + C<T>(c.Momentum) * buffer[i] : buffer[i];
            }
            p[i] += C<T>(-c.Lr) * d;
        }
    }

    private static void RmsPropReference<T>(T[] p, T[] grad, T[] squareAvg, T[]? gradAvg, T[]? buffer, in RmsPropCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T g = Flush(grad[i]);
            if (c.Maximize) g = -g;
            if (c.WeightDecay != 0) g += C<T>(c.WeightDecay) * p[i];
            squareAvg[i] = Flush(Flush(squareAvg[i]) * C<T>(c.Alpha) + Flush(C<T>(1 - c.Alpha) * g * g));
            T avg;
            if (c.Centered)
            {
                gradAvg![i] = Flush(Flush(gradAvg[i]) * C<T>(c.Alpha) + C<T>(1 - c.Alpha) * g);
                avg = T.Sqrt(squareAvg[i] - Flush(gradAvg[i] * gradAvg[i]));
            }
            else
            {
                avg = T.Sqrt(squareAvg[i]);
            }
            avg += C<T>(c.Eps);
            if (c.Momentum > 0)
            {
                buffer![i] = Flush(Flush(buffer[i]) * C<T>(c.Momentum) + g / avg);
                p[i] += C<T>(-c.Lr) * buffer[i];
            }
            else
            {
                p[i] += C<T>(-c.Lr) * g / avg;
            }
        }
    }

    private static void AdagradReference<T>(T[] p, T[] grad, T[] sum, in AdagradCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T g = Flush(grad[i]);
            if (c.Maximize) g = -g;
            if (c.WeightDecay != 0) g += C<T>(c.WeightDecay) * p[i];
            sum[i] = Flush(Flush(sum[i]) + Flush(g * g));
            p[i] += C<T>(-c.ClippedLr) * g / (T.Sqrt(sum[i]) + C<T>(c.Eps));
        }
    }

    // ---- kernel calls ----

    private static void Adam<T>(T[] p, T[] grad, T[] m, T[] v, T[]? vMax, in AdamCoefficients c, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pg = grad, pm = m, pv = v, px = vMax)
            OptimizerUpdateLoop.Run<T, AdamRule<T>>(new AdamRule<T>(pp, pg, pm, pv, px, c), p.Length, pool);
    }

    private static void Sgd<T>(T[] p, T[] grad, T[]? buffer, in SgdCoefficients c, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pg = grad, pb = buffer)
            OptimizerUpdateLoop.Run<T, SgdRule<T>>(new SgdRule<T>(pp, pg, pb, c), p.Length, pool);
    }

    private static void RmsProp<T>(T[] p, T[] grad, T[] squareAvg, T[]? gradAvg, T[]? buffer, in RmsPropCoefficients c, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pg = grad, ps = squareAvg, pa = gradAvg, pb = buffer)
            OptimizerUpdateLoop.Run<T, RmsPropRule<T>>(new RmsPropRule<T>(pp, pg, ps, pa, pb, c), p.Length, pool);
    }

    private static void Adagrad<T>(T[] p, T[] grad, T[] sum, in AdagradCoefficients c, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pg = grad, ps = sum)
            OptimizerUpdateLoop.Run<T, AdagradRule<T>>(new AdagradRule<T>(pp, pg, ps, c), p.Length, pool);
    }

    // ---- data ----

    /// <summary>Values in ±[0.01, 2), with zeros, subnormals and near-threshold normals mixed in.</summary>
    private static T[] Data<T>(Random rng, int n, bool nonNegative = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tiny = SubnormalFlush.SmallestNormal<T>();
        var result = new T[n];
        for (int i = 0; i < n; i++)
        {
            int kind = rng.Next(16);
            T value = kind switch
            {
                0 => T.Zero,
                1 => tiny / T.CreateTruncating(8),
                2 => tiny * T.CreateTruncating(1.5),
                _ => T.CreateTruncating(0.01 + 1.99 * rng.NextDouble()),
            };
            result[i] = !nonNegative && rng.Next(2) == 0 ? -value : value;
        }
        return result;
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = expected[i].Equals(actual[i]) && T.IsNegative(expected[i]) == T.IsNegative(actual[i]) || T.IsNaN(expected[i]) && T.IsNaN(actual[i]);
            if (!same) Assert.Fail($"{what}, element {i} of {expected.Length}: expected {expected[i]}, got {actual[i]}");
        }
    }

    // ---- every length ----

    public static TheoryData<bool, bool, bool, double> AdamVariants() => new()
    {
        { false, false, false, 0.0 },
        { true, false, false, 0.1 },
        { false, true, true, 0.0 },
        { true, true, false, 0.05 },
    };

    [Theory]
    [MemberData(nameof(AdamVariants))]
    public void Adam_kernel_matches_a_scalar_loop_on_every_length(bool amsgrad, bool decoupled, bool maximize, double weightDecay)
    {
        var c = new AdamCoefficients(0.9, 0.999, 1e-8, weightDecay, decoupled ? 1 - 0.01 * 0.1 : null, -0.01 / (1 - 0.9 * 0.9), Math.Sqrt(1 - 0.999 * 0.999), amsgrad, maximize);
        RunAdam<float>(c);
        RunAdam<double>(c);
    }

    private static void RunAdam<T>(in AdamCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(1);
        for (int n = 0; n <= MaxLength; n++)
        {
            var p = Data<T>(rng, n);
            var g = Data<T>(rng, n);
            var m = Data<T>(rng, n);
            var v = Data<T>(rng, n, nonNegative: true);
            var vMax = c.Amsgrad ? Data<T>(rng, n, nonNegative: true) : null;
            T[] p2 = [.. p], m2 = [.. m], v2 = [.. v];
            T[]? vMax2 = vMax is null ? null : [.. vMax];
            AdamReference(p, g, m, v, vMax, c);
            Adam(p2, g, m2, v2, vMax2, c);
            AssertSameBits(p, p2, $"param ({typeof(T).Name})");
            AssertSameBits(m, m2, "exp_avg");
            AssertSameBits(v, v2, "exp_avg_sq");
            if (vMax is not null) AssertSameBits(vMax, vMax2!, "max_exp_avg_sq");
        }
    }

    public static TheoryData<double, double, double, bool, bool, bool> SgdVariants() => new()
    {
        { 0.0, 0.0, 0.0, false, false, false },
        { 0.9, 0.1, 0.01, false, false, false },
        { 0.9, 0.0, 0.0, true, true, false },
        { 0.5, 0.0, 0.05, true, false, true },
        { 0.8, 0.3, 0.0, false, true, true },
    };

    [Theory]
    [MemberData(nameof(SgdVariants))]
    public void Sgd_kernel_matches_a_scalar_loop_on_every_length(double momentum, double dampening, double weightDecay, bool nesterov, bool maximize, bool initialize)
    {
        var c = new SgdCoefficients(0.1, momentum, dampening, weightDecay, nesterov, maximize, initialize);
        RunSgd<float>(c);
        RunSgd<double>(c);
    }

    private static void RunSgd<T>(in SgdCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(2);
        for (int n = 0; n <= MaxLength; n++)
        {
            var p = Data<T>(rng, n);
            var g = Data<T>(rng, n);
            var buffer = c.Momentum != 0 ? Data<T>(rng, n) : null;
            T[] p2 = [.. p];
            T[]? buffer2 = buffer is null ? null : [.. buffer];
            SgdReference(p, g, buffer, c);
            Sgd(p2, g, buffer2, c);
            AssertSameBits(p, p2, $"param ({typeof(T).Name})");
            if (buffer is not null) AssertSameBits(buffer, buffer2!, "momentum_buffer");
        }
    }

    public static TheoryData<double, double, bool, bool> RmsPropVariants() => new()
    {
        { 0.0, 0.0, false, false },
        { 0.9, 0.01, true, false },
        { 0.0, 0.0, true, true },
        { 0.5, 0.0, false, true },
    };

    [Theory]
    [MemberData(nameof(RmsPropVariants))]
    public void RmsProp_kernel_matches_a_scalar_loop_on_every_length(double momentum, double weightDecay, bool centered, bool maximize)
    {
        var c = new RmsPropCoefficients(0.01, 0.99, 1e-8, weightDecay, momentum, centered, maximize);
        RunRmsProp<float>(c);
        RunRmsProp<double>(c);
    }

    private static void RunRmsProp<T>(in RmsPropCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(3);
        for (int n = 0; n <= MaxLength; n++)
        {
            var p = Data<T>(rng, n);
            var g = Data<T>(rng, n);
            // Centered: the squared average is kept above the squared mean, as the running averages keep it.
            var gradAvg = c.Centered ? Data<T>(rng, n) : null;
            var squareAvg = Data<T>(rng, n, nonNegative: true);
            if (gradAvg is not null)
                for (int i = 0; i < n; i++) squareAvg[i] += gradAvg[i] * gradAvg[i];
            var buffer = c.Momentum > 0 ? Data<T>(rng, n) : null;
            T[] p2 = [.. p], squareAvg2 = [.. squareAvg];
            T[]? gradAvg2 = gradAvg is null ? null : [.. gradAvg], buffer2 = buffer is null ? null : [.. buffer];
            RmsPropReference(p, g, squareAvg, gradAvg, buffer, c);
            RmsProp(p2, g, squareAvg2, gradAvg2, buffer2, c);
            AssertSameBits(p, p2, $"param ({typeof(T).Name})");
            AssertSameBits(squareAvg, squareAvg2, "square_avg");
            if (gradAvg is not null) AssertSameBits(gradAvg, gradAvg2!, "grad_avg");
            if (buffer is not null) AssertSameBits(buffer, buffer2!, "momentum_buffer");
        }
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.01, true)]
    public void Adagrad_kernel_matches_a_scalar_loop_on_every_length(double weightDecay, bool maximize)
    {
        var c = new AdagradCoefficients(0.1 / (1 + 2 * 0.05), 1e-10, weightDecay, maximize);
        RunAdagrad<float>(c);
        RunAdagrad<double>(c);
    }

    private static void RunAdagrad<T>(in AdagradCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(4);
        for (int n = 0; n <= MaxLength; n++)
        {
            var p = Data<T>(rng, n);
            var g = Data<T>(rng, n);
            var sum = Data<T>(rng, n, nonNegative: true);
            T[] p2 = [.. p], sum2 = [.. sum];
            AdagradReference(p, g, sum, c);
            Adagrad(p2, g, sum2, c);
            AssertSameBits(p, p2, $"param ({typeof(T).Name})");
            AssertSameBits(sum, sum2, "sum");
        }
    }

    // ---- thread counts ----

    [Fact]
    public void Optimizer_kernels_give_identical_bits_for_any_thread_count()
    {
        // Three shares of the smallest size the pool hands out, and a ragged end, so three threads split it.
        int n = 3 * OptimizerUpdateLoop.GrainBlocks * OptimizerUpdateLoop.BlockElements + 123;
        var rng = new Random(5);
        var p0 = Data<float>(rng, n);
        var g = Data<float>(rng, n);
        var s0 = Data<float>(rng, n, nonNegative: true);
        var s1 = Data<float>(rng, n);
        var s2 = Data<float>(rng, n, nonNegative: true);
        var adam = new AdamCoefficients(0.9, 0.999, 1e-8, 0.01, null, -0.001, 0.5, true, false);
        var rms = new RmsPropCoefficients(0.01, 0.99, 1e-8, 0, 0.9, true, false);

        float[][] Run(WorkerPool pool)
        {
            float[] p = [.. p0], a = [.. s0], b = [.. s1], c = [.. s2];
            Adam(p, g, b, a, c, adam, pool);
            Sgd(p, g, b, new SgdCoefficients(0.1, 0.9, 0, 0, true, false, false), pool);
            RmsProp(p, g, c, b, a, rms, pool);
            Adagrad(p, g, c, new AdagradCoefficients(0.1, 1e-10, 0, false), pool);
            return [p, a, b, c];
        }

        using var one = new WorkerPool(1);
        var expected = Run(one);
        foreach (int threads in new[] { 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var actual = Run(pool);
            for (int k = 0; k < expected.Length; k++) AssertSameBits(expected[k], actual[k], $"array {k} with {threads} threads");
        }
    }

    // ---- subnormals ----

    [Fact]
    public void Decaying_state_goes_from_normal_to_zero_without_subnormal_values()
    {
        RunDecay<float>();
        RunDecay<double>();
    }

    private static void RunDecay<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 37 elements: vector lanes and a scalar tail. The state starts a few halvings above the smallest
        // normal and decays by 0.5 per step under zero gradients, so it crosses the subnormal range.
        const int n = 37;
        var tiny = SubnormalFlush.SmallestNormal<T>();
        T[] Start(int sign) => Enumerable.Range(0, n).Select(i => tiny * T.CreateTruncating(sign * (1 + 0.37 * i))).ToArray();
        var p = Enumerable.Range(0, n).Select(i => T.CreateTruncating(i - 18)).ToArray();
        var zeros = new T[n];
        T[] m = Start(-1), v = Start(1), vMax = Start(1), buffer = Start(1), squareAvg = Start(1), gradAvg = Start(-1), sum = Start(1);
        var adam = new AdamCoefficients(0.5, 0.5, 1e-8, 0, null, -0.001, 1, true, false);
        var sgd = new SgdCoefficients(0.1, 0.5, 0, 0, false, false, false);
        var rms = new RmsPropCoefficients(0.01, 0.5, 1e-8, 0, 0.5, true, false);
        for (int step = 0; step < 40; step++)
        {
            Adam(p, zeros, m, v, vMax, adam);
            Sgd(p, zeros, buffer, sgd);
            RmsProp(p, zeros, squareAvg, gradAvg, buffer, rms);
            Adagrad(p, zeros, sum, new AdagradCoefficients(0.1, 1e-10, 0, false));
            foreach (var (name, values) in new[] { ("exp_avg", m), ("exp_avg_sq", v), ("momentum_buffer", buffer), ("square_avg", squareAvg), ("grad_avg", gradAvg) })
                foreach (var x in values)
                    if (T.IsSubnormal(x)) Assert.Fail($"{typeof(T).Name} {name} holds the subnormal {x} after step {step + 1}");
        }
        Assert.All(m.Concat(v).Concat(buffer).Concat(squareAvg).Concat(gradAvg), x => Assert.Equal(T.Zero, x));
        Assert.All(vMax, x => Assert.False(T.IsSubnormal(x)));
        Assert.All(sum, x => Assert.False(T.IsSubnormal(x)));
    }

    // ---- gradient norms ----

    public static TheoryData<double> NormTypes() => [2.0, 1.0, double.PositiveInfinity, double.NegativeInfinity, 0.0, 3.0, 0.5];

    [Theory]
    [MemberData(nameof(NormTypes))]
    public void Gradient_norm_kernel_matches_a_float64_loop_on_every_length(double p)
    {
        var rng = new Random(6);
        for (int n = 0; n <= MaxLength; n++)
        {
            var f = Data<float>(rng, n);
            var d = Data<double>(rng, n);
            double expected32 = ReferenceNorm(f.Select(x => (double)x).ToArray(), p), actual32 = NormOf(f, p);
            if (!Close(expected32, actual32)) Assert.Fail($"float32 norm {p} of {n} values: expected {expected32:R}, got {actual32:R}");
            double expected64 = ReferenceNorm(d, p), actual64 = NormOf(d, p);
            if (!Close(expected64, actual64)) Assert.Fail($"float64 norm {p} of {n} values: expected {expected64:R}, got {actual64:R}");
        }
    }

    [Fact]
    public void Gradient_norm_kernel_gives_identical_bits_for_any_thread_count()
    {
        var x = Data<float>(new Random(7), 13 * GradNormKernel.BlockElements + 77);
        using var one = new WorkerPool(1);
        foreach (double p in new[] { 2.0, 1.0, 3.0, double.PositiveInfinity })
        {
            double expected = NormOf(x, p, one);
            foreach (int threads in new[] { 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(NormOf(x, p, pool)));
            }
        }
    }

    private static double NormOf<T>(T[] x, double p, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x) return GradNormKernel.Norm(px, x.Length, p, pool);
    }

    private static double ReferenceNorm(double[] x, double p)
    {
        if (x.Length == 0) return 0;
        if (double.IsPositiveInfinity(p)) return x.Max(Math.Abs);
        if (double.IsNegativeInfinity(p)) return x.Min(Math.Abs);
        if (p == 0) return x.Count(v => v != 0);
        return Math.Pow(x.Sum(v => Math.Pow(Math.Abs(v), p)), 1 / p);
    }

    private static bool Close(double expected, double actual) => Math.Abs(expected - actual) <= 1e-12 * Math.Abs(expected) + 1e-300;
}
