using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>The pooling kernels on raw buffers against per-window loops, over random windows and row lengths up to 257.</summary>
public sealed unsafe class PoolKernelTests
{
    private static double[] Random(Random rng, int count)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextDouble() * 2 - 1;
        return v;
    }

    private static PoolKernel.Window RandomWindow(Random rng, bool dilated)
    {
        while (true)
        {
            int kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            int sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int dh = dilated ? rng.Next(1, 3) : 1, dw = dilated ? rng.Next(1, 3) : 1;
            int ph = rng.Next(0, kh / 2 + 1), pw = rng.Next(0, kw / 2 + 1);
            int h = rng.Next(1, 10), w = rng.Next(1, 30);
            if (rng.Next(6) == 0) w = rng.Next(240, 258);
            int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
            if (h + 2 * ph - dh * (kh - 1) - 1 < 0 || w + 2 * pw - dw * (kw - 1) - 1 < 0) continue;
            return new PoolKernel.Window(h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw);
        }
    }

    private static List<int> Taps(PoolKernel.Window w, int oy, int ox)
    {
        var taps = new List<int>();
        for (int ky = 0; ky < w.KernelHeight; ky++)
        for (int kx = 0; kx < w.KernelWidth; kx++)
        {
            int iy = oy * w.StrideHeight - w.PadHeight + ky * w.DilationHeight, ix = ox * w.StrideWidth - w.PadWidth + kx * w.DilationWidth;
            if (iy >= 0 && iy < w.Height && ix >= 0 && ix < w.Width) taps.Add(iy * w.Width + ix);
        }
        return taps;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Max_pool_kernels_match_per_window_loops(int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 25; trial++)
        {
            var w = RandomWindow(rng, dilated: true);
            int planes = rng.Next(1, 4);
            var x = Random(rng, planes * w.InArea);
            var v = Random(rng, planes * w.InArea);
            var g = Random(rng, planes * w.OutArea);
            var y0 = new double[g.Length];
            var gathered0 = new double[g.Length];
            var dx0 = new double[x.Length];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < w.OutHeight; oy++)
            for (int ox = 0; ox < w.OutWidth; ox++)
            {
                int o = (p * w.OutHeight + oy) * w.OutWidth + ox, arg = -1;
                foreach (var t in Taps(w, oy, ox))
                    if (arg < 0 || x[p * w.InArea + t] > x[arg]) arg = p * w.InArea + t;
                y0[o] = arg < 0 ? double.NegativeInfinity : x[arg];
                gathered0[o] = arg < 0 ? 0 : v[arg];
                if (arg >= 0) dx0[arg] += g[o];
            }
            var y = new double[g.Length];
            var gathered = new double[g.Length];
            var dx = new double[x.Length];
            Array.Fill(dx, double.NaN);
            fixed (double* px = x, pv = v, pg = g, py = y, pgt = gathered, pdx = dx)
            {
                PoolKernel.MaxForward(w, planes, px, py);
                PoolKernel.MaxGather(w, planes, pv, px, pgt);
                PoolKernel.MaxBackward(w, planes, pg, px, pdx);
            }
            Assert.Equal(y0, y);
            Assert.Equal(gathered0, gathered);
            TestTensors.AssertClose(dx0, dx, 1e-12, 1e-12, $"max backward {w}");

            var xf = Array.ConvertAll(x, a => (float)a);
            var yf = new float[y.Length];
            fixed (float* px = xf, py = yf) PoolKernel.MaxForward(w, planes, px, py);
            Assert.Equal(Array.ConvertAll(y0, a => (float)a), yf);
        }
    }

    [Theory]
    [InlineData(4, true)]
    [InlineData(5, false)]
    public void Avg_pool_kernels_match_per_window_loops(int seed, bool countIncludePad)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 25; trial++)
        {
            var w = RandomWindow(rng, dilated: false);
            int planes = rng.Next(1, 4);
            var x = Random(rng, planes * w.InArea);
            var g = Random(rng, planes * w.OutArea);
            var y0 = new double[g.Length];
            var dx0 = new double[x.Length];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < w.OutHeight; oy++)
            for (int ox = 0; ox < w.OutWidth; ox++)
            {
                int o = (p * w.OutHeight + oy) * w.OutWidth + ox;
                var taps = Taps(w, oy, ox);
                // Window positions inside the padded input (PyTorch's divisor with padding).
                int rows = Math.Min(oy * w.StrideHeight - w.PadHeight + w.KernelHeight, w.Height + w.PadHeight) - (oy * w.StrideHeight - w.PadHeight);
                int cols = Math.Min(ox * w.StrideWidth - w.PadWidth + w.KernelWidth, w.Width + w.PadWidth) - (ox * w.StrideWidth - w.PadWidth);
                int divisor = countIncludePad ? rows * cols : taps.Count;
                if (taps.Count == 0) continue;
                foreach (var t in taps)
                {
                    y0[o] += x[p * w.InArea + t] / divisor;
                    dx0[p * w.InArea + t] += g[o] / divisor;
                }
            }
            var y = new double[g.Length];
            var dx = new double[x.Length];
            Array.Fill(dx, double.NaN);
            fixed (double* px = x, pg = g, py = y, pdx = dx)
            {
                PoolKernel.AvgForward(w, planes, countIncludePad, px, py);
                PoolKernel.AvgBackward(w, planes, countIncludePad, pg, pdx);
            }
            TestTensors.AssertClose(y0, y, 1e-12, 1e-12, $"avg forward {w}");
            TestTensors.AssertClose(dx0, dx, 1e-12, 1e-12, $"avg backward {w}");
        }
    }

    [Fact]
    public void Adaptive_avg_pool_kernels_match_per_bin_loops()
    {
        var rng = new Random(6);
        for (int trial = 0; trial < 25; trial++)
        {
            int h = rng.Next(1, 12), w = rng.Next(1, 40), oh = rng.Next(1, 14), ow = rng.Next(1, 20), planes = rng.Next(1, 3);
            if (trial % 5 == 0) w = 257;
            var x = Random(rng, planes * h * w);
            var g = Random(rng, planes * oh * ow);
            var y0 = new double[g.Length];
            var dx0 = new double[x.Length];
            for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                int y1 = (int)Math.Floor((double)i * h / oh), y2 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                int x1 = (int)Math.Floor((double)j * w / ow), x2 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                int count = (y2 - y1) * (x2 - x1), o = (p * oh + i) * ow + j;
                for (int a = y1; a < y2; a++)
                for (int b = x1; b < x2; b++)
                {
                    y0[o] += x[(p * h + a) * w + b] / count;
                    dx0[(p * h + a) * w + b] += g[o] / count;
                }
            }
            var y = new double[g.Length];
            var dx = new double[x.Length];
            fixed (double* px = x, pg = g, py = y, pdx = dx)
            {
                PoolKernel.AdaptiveAvgForward(planes, h, w, oh, ow, px, py);
                PoolKernel.AdaptiveAvgBackward(planes, h, w, oh, ow, pg, pdx);
            }
            TestTensors.AssertClose(y0, y, 1e-12, 1e-12, "adaptive forward");
            TestTensors.AssertClose(dx0, dx, 1e-12, 1e-12, "adaptive backward");
        }
    }

    [Fact]
    public void Pool_kernels_allocate_no_managed_memory()
    {
        var w = new PoolKernel.Window(12, 13, 6, 7, 3, 3, 2, 2, 1, 1, 1, 1);
        var x = new float[3 * 12 * 13];
        var y = new float[3 * 6 * 7];
        var dx = new float[x.Length];
        fixed (float* px = x, py = y, pdx = dx)
        {
            // The first round may create the thread's scratch buffers; the second must allocate nothing.
            long before = 0;
            for (int round = 0; round < 2; round++)
            {
                if (round == 1) before = GC.GetAllocatedBytesForCurrentThread();
                PoolKernel.MaxForward(w, 3, px, py);
                PoolKernel.MaxBackward(w, 3, py, px, pdx);
                PoolKernel.MaxGather(w, 3, px, px, py);
                PoolKernel.AvgForward(w, 3, true, px, py);
                PoolKernel.AvgBackward(w, 3, false, py, pdx);
                PoolKernel.AdaptiveAvgForward(3, 12, 13, 5, 4, px, py);
                PoolKernel.AdaptiveAvgBackward(3, 12, 13, 5, 4, py, pdx);
            }
            Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        }
    }

    /// <summary>The index in <paramref name="x"/> of window (oy, ox) of a plane's maximum: the first largest in window order, a later NaN replacing it.</summary>
    private static int WindowArgMax(PoolKernel.Window window, int plane, int oy, int ox, Func<int, double> x)
    {
        int arg = -1;
        foreach (var t in Taps(window, oy, ox))
        {
            int i = plane * window.InArea + t;
            if (arg < 0 || x(i) > x(arg) || double.IsNaN(x(i))) arg = i;
        }
        return arg;
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(14, 14)]
    [InlineData(7, 9)]
    [InlineData(2, 34)]
    public void Max_pool_2x2_stride_2_matches_per_window_rule_with_ties_and_nan(int h, int w)
    {
        var window = new PoolKernel.Window(h, w, h / 2, w / 2, 2, 2, 2, 2, 0, 0, 1, 1);
        int planes = 3;
        var rng = new Random(h * 100 + w);
        // Few distinct values make ties common; a few NaNs test that a later NaN wins.
        var x = new double[planes * window.InArea];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(20) == 0 ? double.NaN : rng.Next(-1, 2) * 0.5;
        var g = Random(rng, planes * window.OutArea);
        g[0] = -0.0;
        var y0 = new double[g.Length];
        var dx0 = new double[x.Length];
        for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < window.OutHeight; oy++)
        for (int ox = 0; ox < window.OutWidth; ox++)
        {
            int o = (p * window.OutHeight + oy) * window.OutWidth + ox, arg = WindowArgMax(window, p, oy, ox, i => x[i]);
            y0[o] = x[arg];
            dx0[arg] = 0.0 + g[o];
        }
        var y = new double[g.Length];
        var dx = new double[x.Length];
        Array.Fill(dx, double.NaN);
        fixed (double* px = x, pg = g, py = y, pdx = dx)
        {
            PoolKernel.MaxForward(window, planes, px, py);
            PoolKernel.MaxBackward(window, planes, pg, px, pdx);
        }
        Assert.Equal(y0.Select(BitConverter.DoubleToInt64Bits).Select(b => double.IsNaN(BitConverter.Int64BitsToDouble(b)) ? -1 : b),
            y.Select(BitConverter.DoubleToInt64Bits).Select(b => double.IsNaN(BitConverter.Int64BitsToDouble(b)) ? -1 : b));
        Assert.Equal(dx0.Select(BitConverter.DoubleToInt64Bits), dx.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>The float32 vector rows, whose last vector overlaps the one before it: widths of 7 and 14 windows, fewer than a vector, odd sizes.</summary>
    [Theory]
    [InlineData(28, 28)]
    [InlineData(14, 14)]
    [InlineData(7, 9)]
    [InlineData(4, 6)]
    [InlineData(6, 19)]
    [InlineData(2, 34)]
    public void Max_pool_2x2_stride_2_in_float32_matches_per_window_rule_with_ties_and_nan(int h, int w)
    {
        var window = new PoolKernel.Window(h, w, h / 2, w / 2, 2, 2, 2, 2, 0, 0, 1, 1);
        int planes = 3;
        var rng = new Random(h * 100 + w + 7);
        var x = new float[planes * window.InArea];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(20) == 0 ? float.NaN : rng.Next(-1, 2) * 0.5f;
        var expected = new float[planes * window.OutArea];
        for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < window.OutHeight; oy++)
        for (int ox = 0; ox < window.OutWidth; ox++)
            expected[(p * window.OutHeight + oy) * window.OutWidth + ox] = x[WindowArgMax(window, p, oy, ox, i => x[i])];
        var y = new float[expected.Length];
        Array.Fill(y, -7f);
        fixed (float* px = x, py = y) PoolKernel.MaxForward(window, planes, px, py);
        Assert.Equal(expected.Select(v => float.IsNaN(v) ? -1 : BitConverter.SingleToInt32Bits(v)),
            y.Select(v => float.IsNaN(v) ? -1 : BitConverter.SingleToInt32Bits(v)));
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    public void Max_pool_kernels_give_identical_bits_for_any_thread_count(int kernel, int stride)
    {
        var window = new PoolKernel.Window(28, 28, (28 - kernel) / stride + 1, (28 - kernel) / stride + 1, kernel, kernel, stride, stride, 0, 0, 1, 1);
        int planes = 64;
        var rng = new Random(kernel);
        var x = Array.ConvertAll(Random(rng, planes * window.InArea), v => (float)v);
        var g = Array.ConvertAll(Random(rng, planes * window.OutArea), v => (float)v);

        (float[] Y, float[] Dx) Run(WorkerPool pool)
        {
            var y = new float[g.Length];
            var dx = new float[x.Length];
            fixed (float* px = x, pg = g, py = y, pdx = dx)
            {
                PoolKernel.MaxForward(window, planes, px, py, pool);
                PoolKernel.MaxBackward(window, planes, pg, px, pdx, pool);
            }
            return (y, dx);
        }

        using var one = new WorkerPool(1);
        var (y1, dx1) = Run(one);
        foreach (int threads in new[] { 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var (y, dx) = Run(pool);
            Assert.Equal(y1, y);
            Assert.Equal(dx1, dx);
        }
    }
}
