using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Ops.Pool;

public sealed class AvgPool2dTests
{
    // planes split as (N, C), H, W, kernel (h, w), stride (h, w), padding (h, w), ceil, countIncludePad
    public static IEnumerable<object[]> Configurations() =>
    [
        [2, 3, 8, 9, 2, 2, 2, 2, 0, 0, false, true],
        [1, 2, 9, 11, 3, 3, 2, 2, 1, 1, false, true],
        [1, 2, 9, 11, 3, 3, 2, 2, 1, 1, false, false],
        [1, 2, 9, 10, 3, 3, 2, 2, 1, 1, true, true],
        [1, 2, 9, 10, 3, 3, 2, 2, 1, 1, true, false],
        [1, 3, 10, 13, 3, 5, 1, 1, 1, 2, false, true],
        [2, 1, 7, 7, 2, 3, 3, 2, 0, 1, true, true],
        [1, 1, 4, 257, 2, 3, 1, 1, 1, 1, false, false],
    ];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void AvgPool2d_forward_matches_naive_loops(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil, bool countIncludePad)
    {
        var x = NaivePool.Random(1, n * c * h * w);
        var expected = NaivePool.Avg(x, n * c, h, w, kh, kw, sh, sw, ph, pw, ceil, countIncludePad, out int oh, out int ow);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var y = F.AvgPool2d(NaivePool.Make(x, dtype, n, c, h, w), (kh, kw), (sh, sw), (ph, pw), ceil, countIncludePad);
            Assert.Equal(new[] { n, c, oh, ow }, y.ShapeArray);
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
            TestTensors.AssertClose(expected, NaivePool.Values(y), tol, tol, $"AvgPool2d {dtype.Name()}");
        }
    }

    [Fact]
    public void AvgPool2d_divisor_counts_padding_only_when_asked()
    {
        var x = Tensor.From<double>([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var withPad = F.AvgPool2d(x, 3, stride: 1, padding: 1).ToArray<double>();
        var withoutPad = F.AvgPool2d(x, 3, stride: 1, padding: 1, countIncludePad: false).ToArray<double>();
        Assert.Equal(12 / 9.0, withPad[0], 12);
        Assert.Equal(45 / 9.0, withPad[4], 12);
        Assert.Equal(3, withoutPad[0], 12);
        Assert.Equal(5, withoutPad[4], 12);
    }

    [Fact]
    public void AvgPool2d_ceil_mode_windows_past_the_input_divide_by_their_clipped_size()
    {
        // PyTorch: avg_pool2d(arange(1, 10).view(1, 1, 3, 3), 2, ceil_mode=True) == [[3, 4.5], [7.5, 9]].
        var x = Tensor.From<double>([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        Assert.Equal(new double[] { 3, 4.5, 7.5, 9 }, F.AvgPool2d(x, 2, ceilMode: true).ToArray<double>());
    }

    [Fact]
    public void AvgPool2d_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(2, 2 * 2 * 7 * 6), 2, 2, 7, 6);
        x.RequiresGrad = true;
        GradCheck.Check(t => F.AvgPool2d(t[0], 3, 2, 1, ceilMode: true), [x]);
        GradCheck.Check(t => F.AvgPool2d(t[0], (2, 3), 1, (1, 1), countIncludePad: false), [x]);
    }

    [Fact]
    public void AvgPool2d_double_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(3, 1 * 2 * 5 * 6), 1, 2, 5, 6);
        x.RequiresGrad = true;
        GradCheck.Check(t =>
        {
            // GradCheck evaluates the function with gradients off; the inner gradient needs them on.
            using var on = Engine.EnableGrad();
            var y = F.AvgPool2d(t[0], 3, 2, 1);
            var g = Engine.Grad([(y * y * y).Sum()], [t[0]], createGraph: true)[0]!;
            return g * t[0];
        }, [x]);
    }

    [Fact]
    public void AvgPool2d_errors_name_the_op_and_shapes()
    {
        var x = Tensor.Zeros([1, 2, 5, 5]);
        Assert.Contains("AvgPool2d: padding [2, 2] must be between 0 and half the kernel size [2, 2]: input [1, 2, 5, 5] float32",
            Assert.Throws<KilnShapeException>(() => F.AvgPool2d(x, 2, padding: 2)).Message);
        Assert.Contains("AvgPool2d: stride [0, 0] must be positive", Assert.Throws<KilnShapeException>(() => F.AvgPool2d(x, 2, stride: 0)).Message);
    }
}
