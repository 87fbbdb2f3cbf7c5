using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The compiled graph's convolution entry points: weights packed once (<see cref="PackedConvWeights"/>)
/// and ReLU in the implicit-GEMM tile epilogue, against the textbook sums and against the plain forward
/// pass followed by ReLU, bit for bit, on the calling thread alone and on 1 and 2 threads.
/// </summary>
public sealed unsafe class FusedConvKernelTests
{
    private static float[] Random(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>Odd sizes around the 6×16 tile and the 256-deep block: partial panels, strides, groups, padding that rows see only, no bias.</summary>
    [Theory]
    [InlineData(1, 32, 14, 14, 64, 5, 5, 1, 2, 1, true, true)]
    [InlineData(1, 9, 7, 11, 17, 3, 3, 1, 1, 1, true, true)]
    [InlineData(2, 13, 5, 9, 9, 5, 5, 1, 2, 1, false, true)]
    [InlineData(1, 12, 9, 8, 33, 4, 3, 2, 1, 1, true, false)]
    [InlineData(3, 16, 6, 7, 20, 3, 3, 1, 1, 2, false, true)]
    [InlineData(1, 8, 3, 4, 8, 3, 3, 1, 3, 1, true, true)]
    public void Prepacked_forward_with_relu_epilogue_matches_naive_sums_and_the_unfused_bits_on_any_thread_count(
        int batch, int channels, int height, int width, int outChannels, int kh, int kw, int stride, int pad, int groups, bool biased, bool relu)
    {
        int oh = (height + 2 * pad - kh) / stride + 1, ow = (width + 2 * pad - kw) / stride + 1;
        var g = new ConvGeometry(batch, channels, height, width, outChannels, groups, kh, kw, stride, stride, pad, pad, 1, 1, oh, ow);
        if (!ImplicitGemmConvKernel.IsAccelerated) return;
        Assert.True(ConvKernel.ForwardTakesImplicitGemm(g), g.ToString());
        var rng = new Random(batch * 1000 + channels * 10 + kh);
        var x = Random(rng, batch * channels * height * width);
        var w = Random(rng, outChannels * g.GroupChannels * kh * kw);
        var bias = biased ? Random(rng, outChannels) : null;
        int cg = g.GroupChannels, og = g.GroupOutChannels;
        var expected = new double[batch * outChannels * oh * ow];
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < outChannels; o++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double sum = bias?[o] ?? 0;
            for (int ci = 0; ci < cg; ci++)
            for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
            {
                int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx, c = o / og * cg + ci;
                if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                    sum += (double)x[((n * channels + c) * height + iy) * width + ix] * w[((o * cg + ci) * kh + ky) * kw + kx];
            }
            expected[((n * outChannels + o) * oh + oy) * ow + ox] = relu && sum < 0 ? 0 : sum;
        }

        PackedConvWeights packed;
        fixed (float* pw = w) packed = PackedConvWeights.Pack(g, pw);
        Assert.True(packed.Fits(g));
        float[] Fused(WorkerPool? pool, bool prepacked)
        {
            var y = new float[expected.Length];
            Array.Fill(y, float.NaN);
            fixed (float* px = x, pw = w, pb = bias, py = y)
                Assert.True(ConvKernel.ForwardFused(g, px, pw, prepacked ? packed : null, pb, py, pool, relu));
            return y;
        }
        var unfused = new float[expected.Length];
        fixed (float* px = x, pw = w, pb = bias, py = unfused) ConvKernel.Forward(g, px, pw, pb, py, null);
        if (relu) for (int i = 0; i < unfused.Length; i++) unfused[i] = unfused[i] < 0 ? 0 : unfused[i];

        var alone = Fused(null, prepacked: true);
        TestTensors.AssertClose(expected, Array.ConvertAll(alone, v => (double)v), 1e-4, 1e-4, $"fused forward {g}");
        AssertSameBits(unfused, alone, $"{g}: prepacked on the calling thread against forward then ReLU");
        AssertSameBits(alone, Fused(null, prepacked: false), $"{g}: packed per call");
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            AssertSameBits(alone, Fused(pool, prepacked: true), $"{g}: {threads} threads");
        }
    }

    [Fact]
    public void Fused_forward_leaves_relu_to_the_caller_on_paths_without_the_epilogue()
    {
        // One input channel: 25 taps, under the implicit-GEMM kernel's minimum patch, so im2col runs.
        var g = new ConvGeometry(1, 1, 6, 6, 8, 1, 5, 5, 1, 1, 2, 2, 1, 1, 6, 6);
        Assert.False(ConvKernel.ForwardTakesImplicitGemm(g));
        var rng = new Random(5);
        var x = Random(rng, 36);
        var w = Random(rng, 200);
        var y = new float[8 * 36];
        var plain = new float[y.Length];
        fixed (float* px = x, pw = w, py = y, pp = plain)
        {
            Assert.False(ConvKernel.ForwardFused(g, px, pw, null, null, py, null, relu: true));
            ConvKernel.Forward(g, px, pw, null, pp, null);
        }
        AssertSameBits(plain, y, "plain forward pass");
        Assert.Contains(y, v => v < 0); // ReLU was not applied
    }

    /// <summary>
    /// A first layer's short patch at batch 1 on 2 threads runs the bands path, which applies ReLU to each
    /// band; on the calling thread alone it runs the plain pass and leaves ReLU to the caller. Either way
    /// the bits are those of the forward pass followed by ReLU.
    /// </summary>
    [Theory]
    [InlineData(1, 28, 28, 32, 5, 2, true)]
    [InlineData(3, 9, 13, 7, 3, 1, false)]
    [InlineData(2, 11, 6, 5, 3, 0, true)]
    public void Bands_path_applies_relu_per_band_with_the_bits_of_forward_then_relu(int channels, int height, int width, int outChannels, int kernel, int pad, bool biased)
    {
        var g = new ConvGeometry(1, channels, height, width, outChannels, 1, kernel, kernel, 1, 1, pad, pad, 1, 1,
            height + 2 * pad - kernel + 1, width + 2 * pad - kernel + 1);
        Assert.False(ConvKernel.ForwardTakesImplicitGemm(g));
        var rng = new Random(channels * 100 + kernel);
        var x = Random(rng, channels * height * width);
        var w = Random(rng, outChannels * channels * kernel * kernel);
        var bias = biased ? Random(rng, outChannels) : null;
        var expected = new float[outChannels * g.OutArea];
        fixed (float* px = x, pw = w, pb = bias, py = expected) ConvKernel.Forward(g, px, pw, pb, py, null);
        for (int i = 0; i < expected.Length; i++) expected[i] = expected[i] < 0 ? 0 : expected[i];
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var y = new float[expected.Length];
            bool applied;
            fixed (float* px = x, pw = w, pb = bias, py = y) applied = ConvKernel.ForwardFused(g, px, pw, null, pb, py, pool, relu: true);
            Assert.Equal(threads == 2, applied);
            if (!applied) for (int i = 0; i < y.Length; i++) y[i] = y[i] < 0 ? 0 : y[i];
            AssertSameBits(expected, y, $"{g}, {threads} threads");
        }
    }

    [Fact]
    public void Shapes_that_run_winograd_keep_it_with_relu_applied_as_outputs_are_stored()
    {
        var g = new ConvGeometry(4, 32, 14, 14, 64, 1, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14);
        if (!WinogradConvKernel.SupportsForward(g)) return;
        Assert.False(ConvKernel.ForwardTakesImplicitGemm(g));
        var rng = new Random(9);
        var x = Random(rng, 4 * 32 * 196);
        var w = Random(rng, 64 * 32 * 25);
        var expected = new float[4 * 64 * 196];
        var y = new float[expected.Length];
        using var pool = new WorkerPool(2);
        fixed (float* px = x, pw = w, pe = expected, py = y)
        {
            ConvKernel.Forward(g, px, pw, null, pe, pool);
            Assert.True(ConvKernel.ForwardFused(g, px, pw, null, null, py, pool, relu: true));
        }
        for (int i = 0; i < expected.Length; i++) expected[i] = expected[i] < 0 ? 0 : expected[i];
        AssertSameBits(expected, y, "Winograd forward then ReLU");
    }

    [Fact]
    public void Packed_weights_fit_only_the_shape_they_were_packed_for()
    {
        var g = new ConvGeometry(1, 8, 5, 5, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5);
        if (!ImplicitGemmConvKernel.IsAccelerated) return; // packing runs AVX2 transposes, as the kernel that reads the panels
        var w = new float[16 * 8 * 9];
        PackedConvWeights packed;
        fixed (float* pw = w) packed = PackedConvWeights.Pack(g, pw);
        Assert.True(packed.Fits(g with { Batch = 7, Height = 9, Width = 11, OutHeight = 9, OutWidth = 11 }));
        Assert.False(packed.Fits(g with { OutChannels = 8 }));
        Assert.False(packed.Fits(g with { KernelWidth = 2 }));
        Assert.Equal("16x8x3x3 conv panels", packed.ToString());
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: output {i} is {actual[i]:R}, expected {expected[i]:R}");
    }
}
