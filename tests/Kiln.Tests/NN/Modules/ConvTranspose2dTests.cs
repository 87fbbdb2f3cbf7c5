using Kiln.Autograd;
using Kiln.NN;
using Kiln.Ops;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class ConvTranspose2dTests
{
    // The values PyTorch's tests below use: round(sin(seed + 0.9 i), 4) for element i.
    private static Tensor Seq(int seed, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.Round(Math.Sin(seed + 0.9 * i), 4, MidpointRounding.ToEven);
        return Tensor.From<double>(v, shape);
    }

    /// <summary>The transposed convolution by its definition: every input element scatters weight·x into the output.</summary>
    private static double[] Naive(Tensor input, Tensor weight, double[]? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, int groups, (int H, int W) dilation, out int[] shape)
    {
        var (xs, ws) = (input.Shape.ToArray(), weight.Shape.ToArray());
        int n = xs[0], cin = xs[1], h = xs[2], w = xs[3], coutGroup = ws[1], kh = ws[2], kw = ws[3];
        int cout = coutGroup * groups, cinGroup = cin / groups;
        int oh = (h - 1) * stride.H - 2 * padding.H + dilation.H * (kh - 1) + outputPadding.H + 1;
        int ow = (w - 1) * stride.W - 2 * padding.W + dilation.W * (kw - 1) + outputPadding.W + 1;
        var x = input.ToArray<double>();
        var k = weight.ToArray<double>();
        var y = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++)
            for (int co = 0; co < cout; co++)
                for (int i = 0; i < oh * ow; i++) y[(b * cout + co) * oh * ow + i] = bias?[co] ?? 0;
        for (int b = 0; b < n; b++)
        for (int ci = 0; ci < cin; ci++)
        for (int iy = 0; iy < h; iy++)
        for (int ix = 0; ix < w; ix++)
        for (int cl = 0; cl < coutGroup; cl++)
        for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
        {
            int co = ci / cinGroup * coutGroup + cl;
            int oy = iy * stride.H - padding.H + ky * dilation.H, ox = ix * stride.W - padding.W + kx * dilation.W;
            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
            y[((b * cout + co) * oh + oy) * ow + ox] += x[((b * cin + ci) * h + iy) * w + ix] * k[((ci * coutGroup + cl) * kh + ky) * kw + kx];
        }
        shape = [n, cout, oh, ow];
        return y;
    }

    public static TheoryData<int[], int[], (int, int), (int, int), (int, int), int, (int, int)> Cases() => new()
    {
        { [2, 3, 4, 5], [3, 2, 3, 3], (1, 1), (0, 0), (0, 0), 1, (1, 1) },
        { [1, 4, 3, 3], [4, 3, 3, 3], (2, 2), (1, 1), (1, 1), 2, (1, 1) },
        { [2, 2, 2, 3], [2, 2, 2, 3], (2, 3), (0, 0), (1, 2), 1, (1, 1) },
        { [1, 2, 3, 2], [2, 1, 2, 2], (1, 1), (1, 0), (2, 1), 2, (3, 2) },
        { [1, 6, 5, 4], [6, 1, 3, 2], (3, 2), (2, 1), (2, 1), 6, (1, 2) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvTranspose2d_forward_matches_the_scatter_definition(int[] inputShape, int[] weightShape, (int, int) stride,
        (int, int) padding, (int, int) outputPadding, int groups, (int, int) dilation)
    {
        var x = OpSample.Uniform(10, -1, 1, inputShape);
        var w = OpSample.Uniform(11, -1, 1, weightShape);
        int cout = weightShape[1] * groups;
        var b = OpSample.Uniform(12, -1, 1, cout);
        var expected = Naive(x, w, b.ToArray<double>(), stride, padding, outputPadding, groups, dilation, out var shape);
        var y = F.ConvTranspose2d(x, w, b, stride, padding, outputPadding, groups, dilation);
        Assert.Equal(shape, y.Shape.ToArray());
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "ConvTranspose2d");
        var y32 = F.ConvTranspose2d(x.To(DType.Float32), w.To(DType.Float32), b.To(DType.Float32), stride, padding, outputPadding, groups, dilation);
        TestTensors.AssertClose(expected, TestTensors.Values(y32), 1e-4, 1e-4, "ConvTranspose2d float32");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvTranspose2d_backward_matches_finite_differences(int[] inputShape, int[] weightShape, (int, int) stride,
        (int, int) padding, (int, int) outputPadding, int groups, (int, int) dilation)
    {
        var x = OpSample.Uniform(20, -1, 1, inputShape);
        var w = OpSample.Uniform(21, -1, 1, weightShape);
        var b = OpSample.Uniform(22, -1, 1, weightShape[1] * groups);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        GradCheck.Check(v => F.ConvTranspose2d(v[0], v[1], v[2], stride, padding, outputPadding, groups, dilation), [x, w, b]);
    }

    [Fact]
    public void ConvTranspose2d_matches_pytorch_with_output_padding_beyond_the_padding()
    {
        // F.conv_transpose2d(x, w, b, stride=1, padding=1, output_padding=2, dilation=3) in PyTorch 1.13 with
        // x = [1, 1, 2, 2], w = [1, 2, 2, 2] of round(sin(seed + 0.9 i), 4) (seeds 1 and 2) and b = [0.5, -0.25].
        double[] expected =
        [
            0.01825286, 0.5, 0.580132, 0.37327184, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.07904097, 0.5, -0.34141585, -0.44620537, 0.5,
            0.82418462, 0.5, 0.1650335, 1.02974702, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.08446274, -0.25, -0.1779415, -0.36395998, -0.25,
            -0.25, -0.25, -0.25, -0.25, -0.25, 0.60043981, -0.25, 0.5092013, 0.60375186, -0.25, -0.72613126, -0.25, 0.052237,
            -0.72798556, -0.25, -0.25, -0.25, -0.25, -0.25, -0.25,
        ];
        var y = F.ConvTranspose2d(Seq(1, 1, 1, 2, 2), Seq(2, 1, 2, 2, 2), Tensor.From<double>([0.5, -0.25]), 1, 1, 2, 1, 3);
        Assert.Equal([1, 2, 5, 5], y.Shape.ToArray());
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-7, 1e-7, "ConvTranspose2d");

        // stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2; x = [2, 4, 2, 3] seed 3, w = [4, 3, 2, 3] seed 4:
        // the output's sum, sum of squares, and y[1, 4].
        var z = F.ConvTranspose2d(Seq(3, 2, 4, 2, 3), Seq(4, 4, 3, 2, 3), null, (2, 3), (1, 0), (1, 2), 2);
        Assert.Equal([2, 6, 3, 11], z.Shape.ToArray());
        Assert.Equal(-1.96898351, z.Sum().Item(), 7);
        Assert.Equal(72.6465063946, (z * z).Sum().Item(), 7);
        double[] plane =
        [
            -0.40380456, -0.77595246, -0.560895, 0.15366561, -0.25946805, -0.47625222, 0.59485427, 0.45340675, -0.03116334, 0.0, 0.0,
            -0.78000278, -0.70361464, -0.09479752, -0.38633991, -0.63574521, -0.40401793, 0.29963609, -0.08679455, -0.40747175, 0.0, 0.0,
            0.58580944, 0.82304444, 0.4374348, 0.13347843, 0.56990787, 0.57505938, -0.41981107, -0.11446871, 0.27750342, 0.0, 0.0,
        ];
        TestTensors.AssertClose(plane, z.Select(0, 1).Select(0, 4).Contiguous().ToArray<double>(), 1e-7, 1e-7, "ConvTranspose2d plane");
    }

    [Fact]
    public void ConvTranspose2d_undoes_the_size_change_of_a_strided_convolution()
    {
        var x = Tensor.Randn([2, 3, 14, 14]);
        var down = new Conv2d(3, 8, 3, stride: 2, padding: 1);
        var up = new ConvTranspose2d(8, 3, 3, stride: 2, padding: 1, outputPadding: 1);
        Assert.Equal([2, 8, 7, 7], down.Call(x).Shape.ToArray());
        Assert.Equal([2, 3, 14, 14], up.Call(down.Call(x)).Shape.ToArray());
        Assert.Equal([3, 14, 14], up.Call(Tensor.Randn([8, 7, 7])).Shape.ToArray());
    }

    [Fact]
    public void ConvTranspose2d_layer_uses_its_parameters()
    {
        var layer = new ConvTranspose2d(4, 6, (2, 3), stride: 2, padding: (0, 1), outputPadding: 1, groups: 2).To(DType.Float64);
        var t = (ConvTranspose2d)layer;
        var x = OpSample.Uniform(30, -1, 1, 2, 4, 3, 3);
        var expected = Naive(x, t.Weight, t.Bias!.ToArray<double>(), (2, 2), (0, 1), (1, 1), 2, (1, 1), out var shape);
        var y = t.Call(x);
        Assert.Equal(shape, y.Shape.ToArray());
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "ConvTranspose2d layer");
    }

    [Fact]
    public void ConvTranspose2d_rejects_bad_inputs_naming_the_op()
    {
        var w = Tensor.Zeros([4, 2, 3, 3]);
        Assert.Contains("input has 3 channels, weight expects 4", Assert.Throws<KilnShapeException>(() => F.ConvTranspose2d(Tensor.Zeros([1, 3, 5, 5]), w)).Message);
        Assert.Contains("output padding", Assert.Throws<KilnShapeException>(() => F.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5]), w, stride: 2, outputPadding: 2)).Message);
        Assert.Contains("ConvTranspose2d", Assert.Throws<KilnShapeException>(() => F.ConvTranspose2d(Tensor.Zeros([4, 5]), w)).Message);
        Assert.Contains("bias", Assert.Throws<KilnShapeException>(() => F.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5]), w, Tensor.Zeros([3]))).Message);
    }
}
