using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>The convolution kernels on raw buffers against the textbook sums, over random geometries.</summary>
public sealed unsafe class ConvKernelTests
{
    private static double[] Random(Random rng, int count)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextDouble() * 2 - 1;
        return v;
    }

    /// <summary>A random valid geometry; <paramref name="depthwise"/> makes every group one input channel.</summary>
    private static ConvGeometry RandomGeometry(Random rng, bool depthwise, bool pointwise = false)
    {
        while (true)
        {
            int groups = depthwise ? rng.Next(2, 5) : rng.Next(1, 3);
            int cg = depthwise ? 1 : rng.Next(1, 4);
            int og = rng.Next(1, 4);
            int kh = pointwise ? 1 : rng.Next(1, 5), kw = pointwise ? 1 : rng.Next(1, 5);
            int sh = pointwise ? 1 : rng.Next(1, 4), sw = pointwise ? 1 : rng.Next(1, 4);
            int dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int h = rng.Next(1, 12), w = rng.Next(1, 40);
            if (rng.Next(8) == 0) w = rng.Next(200, 258);
            int pt = pointwise ? 0 : rng.Next(0, 3), pl = pointwise ? 0 : rng.Next(0, 3);
            int pb = pointwise ? 0 : rng.Next(0, 3), pr = pointwise ? 0 : rng.Next(0, 3);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (h + pt + pb - dh * (kh - 1) - 1 < 0 || w + pl + pr - dw * (kw - 1) - 1 < 0) continue;
            return new ConvGeometry(rng.Next(1, 3), cg * groups, h, w, og * groups, groups, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
        }
    }

    private static IEnumerable<(int N, int O, int Oy, int Ox, int C, int Ci, int Ky, int Kx, int Iy, int Ix)> Taps(ConvGeometry g)
    {
        int cg = g.Channels / g.Groups, og = g.OutChannels / g.Groups;
        for (int n = 0; n < g.Batch; n++)
        for (int o = 0; o < g.OutChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        for (int ci = 0; ci < cg; ci++)
        for (int ky = 0; ky < g.KernelHeight; ky++)
        for (int kx = 0; kx < g.KernelWidth; kx++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight, ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
            if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width) yield return (n, o, oy, ox, o / og * cg + ci, ci, ky, kx, iy, ix);
        }
    }

    private static int XAt(ConvGeometry g, int n, int c, int iy, int ix) => ((n * g.Channels + c) * g.Height + iy) * g.Width + ix;
    private static int YAt(ConvGeometry g, int n, int o, int oy, int ox) => ((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox;
    private static int WAt(ConvGeometry g, int o, int ci, int ky, int kx) => ((o * (g.Channels / g.Groups) + ci) * g.KernelHeight + ky) * g.KernelWidth + kx;

    private static void CheckAllThree(ConvGeometry g, Random rng)
    {
        var x = Random(rng, g.Batch * g.Channels * g.Height * g.Width);
        var w = Random(rng, g.OutChannels * g.Channels / g.Groups * g.KernelHeight * g.KernelWidth);
        var dy = Random(rng, g.Batch * g.OutChannels * g.OutHeight * g.OutWidth);
        var y = new double[dy.Length];
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var y0 = new double[dy.Length];
        var dx0 = new double[x.Length];
        var dw0 = new double[w.Length];
        foreach (var t in Taps(g))
        {
            y0[YAt(g, t.N, t.O, t.Oy, t.Ox)] += x[XAt(g, t.N, t.C, t.Iy, t.Ix)] * w[WAt(g, t.O, t.Ci, t.Ky, t.Kx)];
            dx0[XAt(g, t.N, t.C, t.Iy, t.Ix)] += dy[YAt(g, t.N, t.O, t.Oy, t.Ox)] * w[WAt(g, t.O, t.Ci, t.Ky, t.Kx)];
            dw0[WAt(g, t.O, t.Ci, t.Ky, t.Kx)] += dy[YAt(g, t.N, t.O, t.Oy, t.Ox)] * x[XAt(g, t.N, t.C, t.Iy, t.Ix)];
        }
        Array.Fill(dx, double.NaN);
        Array.Fill(dw, double.NaN);
        fixed (double* px = x, pw = w, pdy = dy, py = y, pdx = dx, pdw = dw)
        {
            ConvKernel.Forward(g, px, pw, py);
            ConvKernel.InputGrad(g, pdy, pw, pdx);
            ConvKernel.WeightGrad(g, px, pdy, pdw);
        }
        TestTensors.AssertClose(y0, y, 1e-12, 1e-12, $"forward {g}");
        TestTensors.AssertClose(dx0, dx, 1e-12, 1e-12, $"input gradient {g}");
        TestTensors.AssertClose(dw0, dw, 1e-12, 1e-12, $"weight gradient {g}");

        var xf = Array.ConvertAll(x, v => (float)v);
        var wf = Array.ConvertAll(w, v => (float)v);
        var yf = new float[y.Length];
        fixed (float* px = xf, pw = wf, py = yf) ConvKernel.Forward(g, px, pw, py);
        TestTensors.AssertClose(y0, Array.ConvertAll(yf, v => (double)v), 1e-4, 1e-5, $"float32 forward {g}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ConvKernel_im2col_path_matches_naive_sums(int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 12; i++) CheckAllThree(RandomGeometry(rng, depthwise: false), rng);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void ConvKernel_depthwise_path_matches_naive_sums(int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 12; i++)
        {
            var g = RandomGeometry(rng, depthwise: true);
            Assert.True(g.IsDepthwise);
            CheckAllThree(g, rng);
        }
    }

    [Fact]
    public void ConvKernel_pointwise_path_matches_naive_sums()
    {
        var rng = new Random(7);
        for (int i = 0; i < 8; i++)
        {
            var g = RandomGeometry(rng, depthwise: false, pointwise: true);
            Assert.True(g.IsPointwise);
            CheckAllThree(g, rng);
        }
    }

    [Fact]
    public void Im2Col_of_a_band_holds_the_tapped_inputs_and_zeros_for_padding()
    {
        var g = new ConvGeometry(1, 2, 5, 7, 1, 1, 3, 2, 2, 3, 1, 2, 2, 1, 3, 4);
        var x = Random(new Random(8), 2 * 5 * 7);
        int rowStart = 1, rowEnd = 3, band = (rowEnd - rowStart) * g.OutWidth;
        var columns = new double[2 * 3 * 2 * band];
        Array.Fill(columns, double.NaN);
        fixed (double* px = x, pc = columns) Im2ColKernel.Unfold(g, px, 2, rowStart, rowEnd, pc);
        for (int c = 0; c < 2; c++)
        for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 2; kx++)
        for (int oy = rowStart; oy < rowEnd; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            int iy = oy * 2 - 1 + ky * 2, ix = ox * 3 - 2 + kx;
            double expected = iy >= 0 && iy < 5 && ix >= 0 && ix < 7 ? x[(c * 5 + iy) * 7 + ix] : 0;
            Assert.Equal(expected, columns[((c * 3 + ky) * 2 + kx) * band + (oy - rowStart) * g.OutWidth + ox]);
        }
    }

    [Fact]
    public void Col2Im_is_the_adjoint_of_Im2Col()
    {
        var rng = new Random(9);
        for (int i = 0; i < 10; i++)
        {
            var g = RandomGeometry(rng, depthwise: false);
            int channels = g.Channels, rows = channels * g.KernelHeight * g.KernelWidth, cols = g.OutHeight * g.OutWidth;
            var x = Random(rng, channels * g.Height * g.Width);
            var m = Random(rng, rows * cols);
            var unfolded = new double[rows * cols];
            var folded = new double[x.Length];
            fixed (double* px = x, pm = m, pu = unfolded, pf = folded)
            {
                Im2ColKernel.Unfold(g, px, channels, 0, g.OutHeight, pu);
                Col2ImKernel.Fold(g, pm, channels, 0, g.OutHeight, pf);
            }
            double left = 0, right = 0;
            for (int k = 0; k < m.Length; k++) left += unfolded[k] * m[k];
            for (int k = 0; k < x.Length; k++) right += x[k] * folded[k];
            Assert.Equal(left, right, 1e-10);
        }
    }

    [Fact]
    public void ConvKernel_band_rows_bound_the_unfolded_matrix()
    {
        var g = new ConvGeometry(1, 256, 100, 100, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 100, 100);
        int rows = ConvKernel.BandRows<float>(g);
        Assert.InRange(rows, 1, 99);
        Assert.True((long)rows * g.PatchSize * g.OutWidth * sizeof(float) <= ConvKernel.ScratchBytes);
        Assert.Equal(1, ConvKernel.BandRows<double>(new ConvGeometry(1, 4096, 4, 4000, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4000)));
    }

    [Fact]
    public void ConvScratch_reuses_its_buffer()
    {
        var first = (nint)ConvScratch.Get<float>(1000);
        Assert.Equal(first, (nint)ConvScratch.Get<float>(500));
        Assert.Equal(first, (nint)ConvScratch.Get<double>(500));
    }

    [Fact]
    public void Unfolding_and_depthwise_kernels_allocate_no_managed_memory()
    {
        var g = new ConvGeometry(2, 4, 9, 11, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 9, 11);
        var x = new float[2 * 4 * 9 * 11];
        var w = new float[4 * 9];
        var y = new float[x.Length];
        var columns = new float[4 * 9 * 9 * 11];
        fixed (float* px = x, pw = w, py = y, pc = columns)
        {
            ConvKernel.Forward(g, px, pw, py);
            long before = GC.GetAllocatedBytesForCurrentThread();
            ConvKernel.Forward(g, px, pw, py);
            ConvKernel.InputGrad(g, py, pw, px);
            ConvKernel.WeightGrad(g, px, py, pw);
            Im2ColKernel.Unfold(g, px, 4, 0, 9, pc);
            Col2ImKernel.Fold(g, pc, 4, 0, 9, px);
            Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        }
    }

    [Fact]
    public void ConvKernel_batches_longer_than_the_reduction_chunks_match_naive_sums()
    {
        var rng = new Random(11);
        CheckAllThree(new ConvGeometry(13, 3, 9, 11, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 9, 11), rng);
        CheckAllThree(new ConvGeometry(ConvKernel.ReductionChunks + 1, 4, 6, 7, 4, 2, 5, 5, 1, 1, 2, 2, 1, 1, 6, 7), rng);
        // Patches shorter than the filter count: the weight-gradient partials are computed transposed.
        CheckAllThree(new ConvGeometry(10, 1, 8, 9, 12, 1, 3, 3, 1, 1, 1, 1, 1, 1, 8, 9), rng);
        CheckAllThree(new ConvGeometry(9, 4, 6, 6, 24, 2, 2, 2, 1, 1, 0, 0, 1, 1, 5, 5), rng);
    }

    [Theory]
    [InlineData(13, 3, 9, 11, 5, 3)]
    [InlineData(3, 2, 7, 7, 4, 5)]
    [InlineData(1, 4, 12, 12, 6, 3)]
    [InlineData(64, 1, 28, 28, 32, 5)]
    [InlineData(4, 16, 9, 9, 20, 3)]
    [InlineData(3, 32, 14, 14, 64, 5)]
    public void ConvKernel_gives_identical_bits_for_any_thread_count(int batch, int channels, int height, int width, int outChannels, int kernel)
    {
        int pad = kernel / 2;
        var g = new ConvGeometry(batch, channels, height, width, outChannels, 1, kernel, kernel, 1, 1, pad, pad, 1, 1, height, width);
        var rng = new Random(batch * 100 + kernel);
        var x = Array.ConvertAll(Random(rng, batch * channels * height * width), v => (float)v);
        var w = Array.ConvertAll(Random(rng, outChannels * channels * kernel * kernel), v => (float)v);
        var dy = Array.ConvertAll(Random(rng, batch * outChannels * height * width), v => (float)v);

        (float[] Y, float[] Dx, float[] Dw) Run(WorkerPool? pool)
        {
            var y = new float[dy.Length];
            var dx = new float[x.Length];
            var dw = new float[w.Length];
            fixed (float* px = x, pw = w, pdy = dy, py = y, pdx = dx, pdw = dw)
            {
                ConvKernel.Forward(g, px, pw, py, pool);
                ConvKernel.InputGrad(g, pdy, pw, pdx, pool);
                ConvKernel.WeightGrad(g, px, pdy, pdw, pool);
            }
            return (y, dx, dw);
        }

        var (y1, dx1, dw1) = Run(null);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var (y, dx, dw) = Run(pool);
            Assert.Equal(y1, y);
            Assert.Equal(dx1, dx);
            Assert.Equal(dw1, dw);
        }
    }

    /// <summary>A random geometry the implicit-GEMM path takes: at least 64 taps per patch and 8 filters per group.</summary>
    private static ConvGeometry RandomImplicitGeometry(Random rng)
    {
        while (true)
        {
            int groups = rng.Next(1, 3), cg = rng.Next(8, 13), og = new[] { 8, 9, 16, 17, 20, 33 }[rng.Next(6)];
            int kh = rng.Next(3, 6), kw = rng.Next(2, 6);
            int sh = rng.Next(1, 3), sw = rng.Next(1, 3), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int h = rng.Next(4, 16), w = rng.Next(4, 20);
            int pt = rng.Next(0, 3), pl = rng.Next(0, 3), pb = rng.Next(0, 3), pr = rng.Next(0, 3);
            int spanH = h + pt + pb - dh * (kh - 1) - 1, spanW = w + pl + pr - dw * (kw - 1) - 1;
            if (spanH < 0 || spanW < 0) continue;
            var g = new ConvGeometry(rng.Next(1, 4), cg * groups, h, w, og * groups, groups, kh, kw, sh, sw, pt, pl, dh, dw, spanH / sh + 1, spanW / sw + 1);
            if (g.PatchSize >= 64) return g;
        }
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void ConvKernel_implicit_gemm_path_matches_naive_sums_in_float32(int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 6; i++)
        {
            var g = RandomImplicitGeometry(rng);
            if (ImplicitGemmConvKernel.IsAccelerated) Assert.True(ImplicitGemmConvKernel.SupportsForward(g), g.ToString());
            CheckImplicitAgainstNaive(g, rng, null);
        }
    }

    /// <summary>
    /// Shapes at the edges of the padding-row skip: output rows that see only padding (padding wider than
    /// the kernel's span: their outputs are zero), outputs smaller than one row tile with many images per weight-gradient block, and images
    /// large enough for the weight gradient to block by output rows; each on 1, 2 and 3 threads.
    /// </summary>
    [Theory]
    [InlineData(2, 8, 5, 6, 9, 3, 3, 1)]
    [InlineData(5, 8, 2, 2, 16, 3, 1, 1)]
    [InlineData(2, 8, 24, 24, 17, 3, 1, 1)]
    [InlineData(3, 12, 7, 9, 20, 5, 4, 2)]
    public void ConvKernel_implicit_gemm_path_matches_naive_sums_where_rows_see_only_padding(int batch, int channels, int height, int width, int outChannels, int kernel, int pad, int dilation)
    {
        int span = dilation * (kernel - 1);
        var g = new ConvGeometry(batch, channels, height, width, outChannels, 1, kernel, kernel, 1, 1, pad, pad, dilation, dilation,
            height + 2 * pad - span, width + 2 * pad - span);
        if (ImplicitGemmConvKernel.IsAccelerated)
        {
            Assert.True(ImplicitGemmConvKernel.SupportsForward(g), g.ToString());
            // Padding wider than the kernel's span flips to a negative one: that input gradient unfolds instead.
            Assert.Equal(pad <= span, ImplicitGemmConvKernel.SupportsInputGrad(g));
        }
        float[]? y1 = null, dx1 = null, dw1 = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var (y, dx, dw) = CheckImplicitAgainstNaive(g, new Random(batch * 31 + kernel), pool);
            if (y1 is null)
            {
                (y1, dx1, dw1) = (y, dx, dw);
                continue;
            }
            Assert.Equal(y1, y);
            Assert.Equal(dx1, dx);
            Assert.Equal(dw1, dw);
        }
    }

    /// <summary>
    /// Batches smaller than the pool: the implicit-GEMM forward pass cuts an image into more, shorter
    /// runs of row tiles, and the unfolding path shares bands of output rows over the threads. Odd
    /// channel counts and sizes, with a bias; the bits are the same on the calling thread alone and on
    /// 1, 2 and 3 threads, and match the textbook sums.
    /// </summary>
    [Theory]
    [InlineData(1, 32, 14, 14, 64, 5, 2)]
    [InlineData(1, 9, 7, 11, 17, 3, 1)]
    [InlineData(2, 13, 5, 9, 9, 5, 2)]
    [InlineData(1, 1, 28, 28, 32, 5, 2)]
    [InlineData(1, 3, 9, 13, 7, 3, 1)]
    [InlineData(2, 2, 11, 6, 5, 3, 0)]
    [InlineData(1, 2, 1, 5, 3, 1, 0)]
    public void ConvKernel_forward_of_fewer_images_than_threads_matches_naive_sums_with_identical_bits(int batch, int channels, int size, int width, int outChannels, int kernel, int pad)
    {
        var g = new ConvGeometry(batch, channels, size, width, outChannels, 1, kernel, kernel, 1, 1, pad, pad, 1, 1,
            size + 2 * pad - kernel + 1, width + 2 * pad - kernel + 1);
        if (ImplicitGemmConvKernel.IsAccelerated) Assert.Equal(g.PatchSize >= 64, ImplicitGemmConvKernel.SupportsForward(g));
        var rng = new Random(batch * 1000 + channels * 10 + kernel);
        var x = Array.ConvertAll(Random(rng, batch * channels * size * width), v => (float)v);
        var w = Array.ConvertAll(Random(rng, outChannels * channels * kernel * kernel), v => (float)v);
        var bias = Array.ConvertAll(Random(rng, outChannels), v => (float)v);
        var expected = new double[batch * outChannels * g.OutArea];
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < outChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double sum = bias[o];
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = oy - pad + ky, ix = ox - pad + kx;
                if (iy >= 0 && iy < size && ix >= 0 && ix < width) sum += (double)x[XAt(g, n, c, iy, ix)] * w[WAt(g, o, c, ky, kx)];
            }
            expected[YAt(g, n, o, oy, ox)] = sum;
        }
        float[] Run(WorkerPool? pool)
        {
            var y = new float[expected.Length];
            Array.Fill(y, float.NaN);
            fixed (float* px = x, pw = w, pb = bias, py = y) ConvKernel.Forward(g, px, pw, pb, py, pool);
            return y;
        }
        var alone = Run(null);
        TestTensors.AssertClose(expected, Array.ConvertAll(alone, v => (double)v), 1e-4, 1e-4, $"forward {g}");
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var y = Run(pool);
            for (int i = 0; i < y.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(y[i]),
                    $"{g}, {threads} threads: output {i} is {y[i]:R}, the calling thread alone gave {alone[i]:R}");
        }
    }

    [Theory]
    [InlineData(1, 33, 2, 4)]
    [InlineData(1, 33, 3, 3)]
    [InlineData(2, 33, 2, 3)]
    [InlineData(1, 7, 2, 2)]
    [InlineData(1, 1, 2, 1)]
    [InlineData(3, 10, 2, 2)]
    [InlineData(64, 33, 2, 3)]
    [InlineData(1, 33, 1, 3)]
    public void Implicit_gemm_forward_cuts_small_batches_into_items_that_share_evenly(int batch, int tiles, int threads, int perImage)
        => Assert.Equal(perImage, ImplicitGemmConvKernel.ChunksPerImage(batch, tiles, threads));

    /// <summary>All three float32 passes of <paramref name="g"/> against the double-precision textbook sums; returns the results.</summary>
    private static (float[] Y, float[] Dx, float[] Dw) CheckImplicitAgainstNaive(ConvGeometry g, Random rng, WorkerPool? pool)
    {
        var x = Random(rng, g.Batch * g.Channels * g.Height * g.Width);
        var w = Random(rng, g.OutChannels * g.Channels / g.Groups * g.KernelHeight * g.KernelWidth);
        var dy = Random(rng, g.Batch * g.OutChannels * g.OutHeight * g.OutWidth);
        var y0 = new double[dy.Length];
        var dx0 = new double[x.Length];
        var dw0 = new double[w.Length];
        foreach (var t in Taps(g))
        {
            y0[YAt(g, t.N, t.O, t.Oy, t.Ox)] += x[XAt(g, t.N, t.C, t.Iy, t.Ix)] * w[WAt(g, t.O, t.Ci, t.Ky, t.Kx)];
            dx0[XAt(g, t.N, t.C, t.Iy, t.Ix)] += dy[YAt(g, t.N, t.O, t.Oy, t.Ox)] * w[WAt(g, t.O, t.Ci, t.Ky, t.Kx)];
            dw0[WAt(g, t.O, t.Ci, t.Ky, t.Kx)] += dy[YAt(g, t.N, t.O, t.Oy, t.Ox)] * x[XAt(g, t.N, t.C, t.Iy, t.Ix)];
        }
        var xf = Array.ConvertAll(x, v => (float)v);
        var wf = Array.ConvertAll(w, v => (float)v);
        var dyf = Array.ConvertAll(dy, v => (float)v);
        var y = new float[dy.Length];
        var dx = new float[x.Length];
        var dwf = new float[w.Length];
        Array.Fill(y, float.NaN);
        Array.Fill(dx, float.NaN);
        Array.Fill(dwf, float.NaN);
        fixed (float* px = xf, pw = wf, pdy = dyf, py = y, pdx = dx, pdw = dwf)
        {
            ConvKernel.Forward(g, px, pw, null, py, pool ?? WorkerPool.Shared);
            ConvKernel.InputGrad(g, pdy, pw, pdx, pool ?? WorkerPool.Shared);
            ConvKernel.WeightGrad(g, px, pdy, pdw, pool ?? WorkerPool.Shared);
        }
        TestTensors.AssertClose(y0, Array.ConvertAll(y, v => (double)v), 1e-4, 1e-4, $"float32 forward {g}");
        TestTensors.AssertClose(dx0, Array.ConvertAll(dx, v => (double)v), 1e-4, 1e-4, $"float32 input gradient {g}");
        TestTensors.AssertClose(dw0, Array.ConvertAll(dwf, v => (double)v), 1e-4, 1e-4, $"float32 weight gradient {g}");
        return (y, dx, dwf);
    }
}
