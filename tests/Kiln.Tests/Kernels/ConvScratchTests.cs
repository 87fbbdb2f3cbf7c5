using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// A convolution's scratch stays with its thread for reuse, except buffers over ConvScratch.LargeBytes:
/// a one-off large convolution (evaluation on big batches) gives its memory back when it ends.
/// </summary>
public sealed unsafe class ConvScratchTests
{
    private static void Forward(int batch, int channels, int size)
    {
        // 5x5 'same' convolution, channels -> 4, on the calling thread only (scratch is per thread).
        var g = new ConvGeometry(batch, channels, size, size, 4, 1, 5, 5, 1, 1, 2, 2, 1, 1, size, size);
        var input = new float[batch * channels * size * size];
        var weight = new float[4 * channels * 25];
        var output = new float[batch * 4 * size * size];
        input.AsSpan().Fill(1);
        weight.AsSpan().Fill(0.5f);
        fixed (float* x = input, w = weight, y = output) ConvKernel.Forward(g, x, w, y, pool: null);
        Assert.Equal(0.5f * channels * 25, output[(size / 2) * size + size / 2]);   // an inner output sees all 25 taps of every channel
    }

    [Fact]
    public void A_large_convolution_frees_its_large_scratch_and_a_small_one_keeps_its_buffers()
    {
        Forward(batch: 2, channels: 8, size: 16);
        long small = ConvScratch.HeldBytes();
        Assert.True(small > 0 && small < ConvScratch.LargeBytes, $"{small} bytes held after a small convolution");
        Forward(batch: 2, channels: 8, size: 16);
        Assert.Equal(small, ConvScratch.HeldBytes());

        Forward(batch: 36, channels: 32, size: 60);      // a padded input of 36·32·64·64 floats (18.9 MB)
        long after = ConvScratch.HeldBytes();
        Assert.True(after < ConvScratch.LargeBytes + small, $"{after} bytes held after a large convolution");
    }
}
