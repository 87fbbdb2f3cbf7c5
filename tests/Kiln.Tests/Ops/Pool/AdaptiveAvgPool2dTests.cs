using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Ops.Pool;

public sealed class AdaptiveAvgPool2dTests
{
    private static double[] Naive(double[] x, int planes, int h, int w, int oh, int ow)
    {
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int y0 = i * h / oh, y1 = ((i + 1) * h + oh - 1) / oh;
            int x0 = j * w / ow, x1 = ((j + 1) * w + ow - 1) / ow;
            double sum = 0;
            for (int a = y0; a < y1; a++)
            for (int b = x0; b < x1; b++) sum += x[(p * h + a) * w + b];
            y[(p * oh + i) * ow + j] = sum / ((y1 - y0) * (x1 - x0));
        }
        return y;
    }

    [Theory]
    [InlineData(2, 3, 7, 9, 3, 4)]
    [InlineData(1, 2, 10, 10, 3, 3)]
    [InlineData(1, 2, 3, 5, 7, 8)]
    [InlineData(2, 2, 6, 6, 1, 1)]
    [InlineData(1, 1, 5, 257, 2, 13)]
    public void AdaptiveAvgPool2d_forward_matches_naive_loops(int n, int c, int h, int w, int oh, int ow)
    {
        var x = NaivePool.Random(1, n * c * h * w);
        var expected = Naive(x, n * c, h, w, oh, ow);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var y = F.AdaptiveAvgPool2d(NaivePool.Make(x, dtype, n, c, h, w), (oh, ow));
            Assert.Equal(new[] { n, c, oh, ow }, y.ShapeArray);
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
            TestTensors.AssertClose(expected, NaivePool.Values(y), tol, tol, $"AdaptiveAvgPool2d {dtype.Name()}");
        }
    }

    [Fact]
    public void AdaptiveAvgPool2d_bins_overlap_like_pytorch()
    {
        // Five columns into three bins: [0, 2), [1, 4), [3, 5).
        var y = F.AdaptiveAvgPool2d(Tensor.From<double>([1, 2, 3, 4, 5], 1, 1, 1, 5), (1, 3));
        Assert.Equal(new double[] { 1.5, 3, 4.5 }, y.ToArray<double>());
    }

    [Fact]
    public void AdaptiveAvgPool2d_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(2, 2 * 2 * 7 * 5), 2, 2, 7, 5);
        x.RequiresGrad = true;
        GradCheck.Check(t => F.AdaptiveAvgPool2d(t[0], (3, 4)), [x]);
        GradCheck.Check(t => F.AdaptiveAvgPool2d(t[0], 1), [x]);
    }

    [Fact]
    public void AdaptiveAvgPool2d_double_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(3, 1 * 2 * 5 * 7), 1, 2, 5, 7);
        x.RequiresGrad = true;
        GradCheck.Check(t =>
        {
            // GradCheck evaluates the function with gradients off; the inner gradient needs them on.
            using var on = Engine.EnableGrad();
            var y = F.AdaptiveAvgPool2d(t[0], (2, 3));
            var g = Engine.Grad([(y * y * y).Sum()], [t[0]], createGraph: true)[0]!;
            return g * t[0];
        }, [x]);
    }

    [Fact]
    public void AdaptiveAvgPool2d_errors_name_the_op_and_shapes()
    {
        Assert.Equal("AdaptiveAvgPool2d: output size 0x2 must be positive: input [1, 2, 5, 5] float32",
            Assert.Throws<KilnShapeException>(() => F.AdaptiveAvgPool2d(Tensor.Zeros([1, 2, 5, 5]), (0, 2))).Message);
    }
}
