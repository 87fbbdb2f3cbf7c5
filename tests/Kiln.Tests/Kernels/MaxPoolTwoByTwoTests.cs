using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The vectorized 2×2 stride-2 max pool (float32) against naive loops, on widths around the vector
/// widths (so both the vector body and the scalar tail run), with many ties, NaNs and −0 gradients:
/// the first maximum in window order wins, a later NaN replaces it, and the gradient is written as 0 + g.
/// </summary>
public sealed class MaxPoolTwoByTwoTests
{
    private static float[] Values(int seed, int n)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            int r = rng.Next(20);
            v[i] = r == 0 ? float.NaN : r == 1 ? -0f : rng.Next(-3, 4); // few distinct values: ties everywhere
        }
        return v;
    }

    /// <summary>The window's winner by the scalar rule, over top-left, top-right, bottom-left, bottom-right.</summary>
    private static int ArgMax(float a0, float a1, float b0, float b1)
    {
        float best = a0;
        int arg = 0;
        if (a1 > best || float.IsNaN(a1)) { best = a1; arg = 1; }
        if (b0 > best || float.IsNaN(b0)) { best = b0; arg = 2; }
        if (b1 > best || float.IsNaN(b1)) arg = 3;
        return arg;
    }

    private static float MaxOrNaN(float best, float v) => v > best || float.IsNaN(v) ? v : best;

    [Theory]
    [InlineData(2, 3, 4)]
    [InlineData(1, 8, 16)]
    [InlineData(3, 7, 17)]
    [InlineData(2, 10, 33)]
    [InlineData(1, 28, 28)]
    [InlineData(2, 14, 15)]
    [InlineData(1, 5, 70)]
    public void Two_by_two_max_pool_forward_and_backward_match_naive_loops_bit_for_bit(int planes, int h, int w)
    {
        int oh = h / 2, ow = w / 2;
        var x = Values(h * 100 + w, planes * h * w);
        var g = Values(w * 100 + h, planes * oh * ow);
        var expectedY = new float[planes * oh * ow];
        var expectedDx = new float[planes * h * w];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int top = p * h * w + 2 * oy * w + 2 * ox, bottom = top + w;
                    float a0 = x[top], a1 = x[top + 1], b0 = x[bottom], b1 = x[bottom + 1];
                    int o = p * oh * ow + oy * ow + ox;
                    expectedY[o] = MaxOrNaN(MaxOrNaN(a0, b0), MaxOrNaN(a1, b1));
                    int arg = ArgMax(a0, a1, b0, b1);
                    int at = (arg < 2 ? top : bottom) + (arg & 1);
                    expectedDx[at] = 0f + g[o];
                }

        var input = Tensor.From<float>(x, planes, 1, h, w);
        input.RequiresGrad = true;
        var y = F.MaxPool2d(input, 2);
        Assert.Equal(expectedY.Select(BitConverter.SingleToInt32Bits), y.ToArray<float>().Select(BitConverter.SingleToInt32Bits));
        y.Backward(Tensor.From<float>(g, planes, 1, oh, ow));
        Assert.Equal(expectedDx.Select(BitConverter.SingleToInt32Bits), input.Grad!.ToArray<float>().Select(BitConverter.SingleToInt32Bits));
    }
}
