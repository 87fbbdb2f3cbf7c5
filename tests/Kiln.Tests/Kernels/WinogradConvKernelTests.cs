using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The Winograd F(2×2, 5×5) convolution against textbook sums in double: odd channel counts (not
/// multiples of the 8-channel vectors or 16-channel panels), odd output sizes (tiles cut by the
/// output's edge), 'same', 'valid' and uneven padding, with and without bias; the input gradient
/// against the transposed convolution's sums and the weight gradient against its sums over images and
/// positions; the same bits on 1, 2 and 3 threads.
/// </summary>
public sealed unsafe class WinogradConvKernelTests
{
    private static float[] Random(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static ConvGeometry Geometry(int batch, int channels, int height, int width, int outChannels, int padTop, int padLeft, int padBottom, int padRight)
        => new(batch, channels, height, width, outChannels, 1, 5, 5, 1, 1, padTop, padLeft, 1, 1,
            height + padTop + padBottom - 4, width + padLeft + padRight - 4);

    private static double[] NaiveForward(ConvGeometry g, float[] x, float[] w, float[]? bias)
    {
        var y = new double[g.Batch * g.OutChannels * g.OutArea];
        for (int n = 0; n < g.Batch; n++)
        for (int o = 0; o < g.OutChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double sum = bias?[o] ?? 0;
            for (int c = 0; c < g.Channels; c++)
            for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++)
            {
                int iy = oy + ky - g.PadTop, ix = ox + kx - g.PadLeft;
                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                sum += (double)x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] * w[((o * g.Channels + c) * 5 + ky) * 5 + kx];
            }
            y[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox] = sum;
        }
        return y;
    }

    private static double[] NaiveInputGrad(ConvGeometry g, float[] dy, float[] w)
    {
        var dx = new double[g.Batch * g.Channels * g.InArea];
        for (int n = 0; n < g.Batch; n++)
        for (int o = 0; o < g.OutChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double d = dy[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox];
            for (int c = 0; c < g.Channels; c++)
            for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++)
            {
                int iy = oy + ky - g.PadTop, ix = ox + kx - g.PadLeft;
                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                dx[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] += d * w[((o * g.Channels + c) * 5 + ky) * 5 + kx];
            }
        }
        return dx;
    }

    /// <summary>Every element within a small multiple of float32 rounding of the sum of |terms| (≤ channels · 25 · 1 here).</summary>
    private static void AssertClose(double[] expected, float[] actual, int terms, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double tolerance = 2e-6 * terms;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    private static float[] RunForward(ConvGeometry g, float[] x, float[] w, float[]? bias, WorkerPool? pool)
    {
        var y = new float[g.Batch * g.OutChannels * g.OutArea];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, pw = w, pb = bias, py = y)
            WinogradConvKernel.Forward(g, px, pw, pb, py, pool);
        return y;
    }

    private static float[] RunInputGrad(ConvGeometry g, float[] dy, float[] w, WorkerPool? pool)
    {
        var dx = new float[g.Batch * g.Channels * g.InArea];
        Array.Fill(dx, float.NaN);
        fixed (float* pdy = dy, pw = w, pdx = dx)
            WinogradConvKernel.InputGrad(g, pdy, pw, pdx, pool);
        return dx;
    }

    [Theory]
    [InlineData(7, 17, 9, 11, 19, 2, 2, 2, 2, true)]
    [InlineData(4, 32, 14, 14, 64, 2, 2, 2, 2, true)]
    [InlineData(5, 24, 13, 20, 16, 0, 0, 0, 0, false)]
    [InlineData(13, 16, 10, 7, 33, 1, 3, 2, 0, true)]
    [InlineData(2, 20, 15, 15, 18, 4, 4, 4, 4, false)]
    public void Winograd_forward_matches_naive_sums_with_identical_bits_on_any_thread_count(
        int batch, int channels, int height, int width, int outChannels, int padTop, int padLeft, int padBottom, int padRight, bool withBias)
    {
        var g = Geometry(batch, channels, height, width, outChannels, padTop, padLeft, padBottom, padRight);
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(WinogradConvKernel.SupportsForward(g), g.ToString());
        var rng = new Random(batch * 100 + channels);
        var x = Random(rng, batch * channels * height * width);
        var w = Random(rng, outChannels * channels * 25);
        var bias = withBias ? Random(rng, outChannels) : null;
        var expected = NaiveForward(g, x, w, bias);
        var alone = RunForward(g, x, w, bias, null);
        AssertClose(expected, alone, channels * 25, g.ToString());
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            Assert.Equal(alone, RunForward(g, x, w, bias, pool));
        }
    }

    /// <summary>
    /// Weights transformed once (a frozen graph's constant) at batch 1 and 2, where each image's tiles are
    /// shared between threads (cutting rows of tiles mid-row): the naive sums, ReLU as the op computes it, and the same bits as
    /// the per-call transform on 1, 2 and 3 threads.
    /// </summary>
    [Theory]
    [InlineData(1, 32, 14, 14, 64, 2, 2, 2, 2)]
    [InlineData(1, 17, 9, 11, 19, 2, 2, 2, 2)]
    [InlineData(2, 16, 10, 7, 33, 1, 3, 2, 0)]
    [InlineData(1, 24, 3, 20, 16, 2, 0, 2, 0)]
    public void Winograd_with_pretransformed_weights_matches_naive_sums_with_relu_on_any_thread_count(
        int batch, int channels, int height, int width, int outChannels, int padTop, int padLeft, int padBottom, int padRight)
    {
        var g = Geometry(batch, channels, height, width, outChannels, padTop, padLeft, padBottom, padRight);
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(WinogradConvKernel.SupportsShape(g), g.ToString());
        Assert.False(WinogradConvKernel.SupportsForward(g)); // too few tiles to pay for transforming weights per call
        var rng = new Random(batch * 100 + channels);
        var x = Random(rng, batch * channels * height * width);
        var w = Random(rng, outChannels * channels * 25);
        var bias = Random(rng, outChannels);
        var transformed = new float[WinogradConvKernel.TransformedWeightLength(g) + 16];
        var expected = NaiveForward(g, x, w, bias);
        float[]? first = null;
        fixed (float* px = x, pw = w, pb = bias, pt = transformed)
        {
            float* aligned = (float*)(((nint)pt + 63) & ~(nint)63);
            WinogradConvKernel.TransformWeights(g, pw, aligned);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                var plain = new float[batch * outChannels * g.OutArea];
                var relu = new float[plain.Length];
                fixed (float* pp = plain, pr = relu)
                {
                    WinogradConvKernel.ForwardTransformed(g, px, aligned, pb, pp, pool, relu: false);
                    WinogradConvKernel.ForwardTransformed(g, px, aligned, pb, pr, pool, relu: true);
                }
                AssertClose(expected, plain, channels * 25, $"{threads} threads");
                for (int i = 0; i < plain.Length; i++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(plain[i] < 0 ? 0 : plain[i]), BitConverter.SingleToInt32Bits(relu[i]));
                first ??= plain;
                Assert.Equal(first, plain);
            }
        }
        Assert.Equal(first, RunForward(g, x, w, bias, null));
    }

    [Theory]
    [InlineData(4, 32, 14, 14, 64, 2, 2, 2, 2)]
    [InlineData(7, 19, 9, 11, 17, 2, 2, 2, 2)]
    [InlineData(13, 16, 10, 7, 21, 1, 3, 2, 0)]
    [InlineData(3, 24, 13, 20, 16, 0, 0, 0, 0)]
    public void Winograd_input_grad_matches_naive_transposed_sums_with_identical_bits_on_any_thread_count(
        int batch, int channels, int height, int width, int outChannels, int padTop, int padLeft, int padBottom, int padRight)
    {
        var g = Geometry(batch, channels, height, width, outChannels, padTop, padLeft, padBottom, padRight);
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(WinogradConvKernel.SupportsInputGrad(g), g.ToString());
        var rng = new Random(batch * 100 + outChannels);
        var dy = Random(rng, batch * outChannels * g.OutArea);
        var w = Random(rng, outChannels * channels * 25);
        var expected = NaiveInputGrad(g, dy, w);
        var alone = RunInputGrad(g, dy, w, null);
        AssertClose(expected, alone, outChannels * 25, g.ToString());
        foreach (int threads in new[] { 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            Assert.Equal(alone, RunInputGrad(g, dy, w, pool));
        }
    }

    private static double[] NaiveWeightGrad(ConvGeometry g, float[] x, float[] dy)
    {
        var dw = new double[g.OutChannels * g.Channels * 25];
        for (int n = 0; n < g.Batch; n++)
        for (int o = 0; o < g.OutChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double d = dy[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox];
            for (int c = 0; c < g.Channels; c++)
            for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++)
            {
                int iy = oy + ky - g.PadTop, ix = ox + kx - g.PadLeft;
                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                dw[((o * g.Channels + c) * 5 + ky) * 5 + kx] += d * x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix];
            }
        }
        return dw;
    }

    private static float[] RunWeightGrad(ConvGeometry g, float[] x, float[] dy, WorkerPool? pool)
    {
        var dw = new float[g.OutChannels * g.Channels * 25];
        Array.Fill(dw, float.NaN);
        fixed (float* px = x, pdy = dy, pdw = dw)
            WinogradConvKernel.WeightGrad(g, px, pdy, pdw, pool);
        return dw;
    }

    [Theory]
    [InlineData(4, 32, 14, 14, 64, 2, 2, 2, 2)]
    [InlineData(7, 17, 9, 11, 19, 2, 2, 2, 2)]
    [InlineData(13, 16, 10, 7, 21, 1, 3, 2, 0)]
    [InlineData(5, 24, 13, 20, 16, 0, 0, 0, 0)]
    [InlineData(9, 20, 6, 6, 33, 4, 4, 4, 4)]
    public void Winograd_weight_grad_matches_naive_sums_with_identical_bits_on_any_thread_count(
        int batch, int channels, int height, int width, int outChannels, int padTop, int padLeft, int padBottom, int padRight)
    {
        var g = Geometry(batch, channels, height, width, outChannels, padTop, padLeft, padBottom, padRight);
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(WinogradConvKernel.SupportsWeightGrad(g), g.ToString());
        var rng = new Random(batch * 100 + channels + outChannels);
        var x = Random(rng, batch * channels * height * width);
        var dy = Random(rng, batch * outChannels * g.OutArea);
        var expected = NaiveWeightGrad(g, x, dy);
        var alone = RunWeightGrad(g, x, dy, null);
        // Each weight sums one product per image and output position.
        AssertClose(expected, alone, batch * g.OutArea, g.ToString());
        foreach (int threads in new[] { 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            Assert.Equal(alone, RunWeightGrad(g, x, dy, pool));
        }
    }

    [Fact]
    public void Winograd_is_chosen_only_for_5x5_stride_1_layers_with_enough_channels_and_tiles()
    {
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(WinogradConvKernel.SupportsForward(Geometry(64, 32, 14, 14, 64, 2, 2, 2, 2)));
        // A first layer's single input channel, and one small image (49 tiles), stay on the implicit GEMM.
        Assert.False(WinogradConvKernel.SupportsForward(Geometry(64, 1, 28, 28, 32, 2, 2, 2, 2)));
        Assert.False(WinogradConvKernel.SupportsForward(Geometry(1, 32, 14, 14, 64, 2, 2, 2, 2)));
        var strided = new ConvGeometry(64, 32, 14, 14, 64, 1, 5, 5, 2, 2, 2, 2, 1, 1, 7, 7);
        Assert.False(WinogradConvKernel.SupportsForward(strided));
        var threeByThree = new ConvGeometry(64, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14);
        Assert.False(WinogradConvKernel.SupportsForward(threeByThree));
        // 8 runs of 36 points × 512 × 512 sums (300 MB) would be too much scratch for the weight gradient.
        Assert.True(WinogradConvKernel.SupportsForward(Geometry(16, 512, 8, 8, 512, 2, 2, 2, 2)));
        Assert.False(WinogradConvKernel.SupportsWeightGrad(Geometry(16, 512, 8, 8, 512, 2, 2, 2, 2)));
        Assert.True(WinogradConvKernel.SupportsWeightGrad(Geometry(64, 32, 14, 14, 64, 2, 2, 2, 2)));
        // Padding wider than the kernel's span flips to a negative one: no input gradient here.
        Assert.False(WinogradConvKernel.SupportsInputGrad(Geometry(8, 32, 14, 14, 64, 5, 5, 5, 5)));
    }

    [Fact]
    public void ConvKernel_routes_the_cnn_second_layer_forward_and_both_gradients_through_winograd()
    {
        var g = Geometry(8, 32, 14, 14, 64, 2, 2, 2, 2);
        var rng = new Random(5);
        var x = Random(rng, 8 * 32 * 196);
        var w = Random(rng, 64 * 32 * 25);
        var bias = Random(rng, 64);
        var y = new float[8 * 64 * 196];
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        fixed (float* px = x, pw = w, pb = bias, py = y, pdx = dx, pdw = dw)
        {
            ConvKernel.Forward(g, px, pw, pb, py, null);
            ConvKernel.InputGrad(g, py, pw, pdx, null);
            ConvKernel.WeightGrad(g, px, py, pdw, null);
        }
        AssertClose(NaiveForward(g, x, w, bias), y, 32 * 25, "forward");
        // The output (the gradient here) is up to about 20 in size: the tolerance scales with it.
        AssertClose(NaiveInputGrad(g, y, w), dx, 64 * 25 * 20, "input grad");
        AssertClose(NaiveWeightGrad(g, x, y), dw, 8 * 196 * 20, "weight grad");
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.Equal(RunForward(g, x, w, bias, null), y);
        Assert.Equal(RunInputGrad(g, y, w, null), dx);
        Assert.Equal(RunWeightGrad(g, x, y, null), dw);
    }
}
