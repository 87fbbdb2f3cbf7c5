using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Ops.Pool;

public sealed class MaxPool2dTests
{
    // planes split as (N, C), H, W, kernel (h, w), stride (h, w), padding (h, w), dilation (h, w), ceil
    public static IEnumerable<object[]> Configurations() =>
    [
        [2, 3, 8, 9, 2, 2, 2, 2, 0, 0, 1, 1, false],
        [1, 2, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1, false],
        [1, 2, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1, true],
        [1, 3, 10, 13, 3, 2, 1, 1, 1, 1, 1, 1, false],
        [2, 1, 12, 12, 3, 3, 1, 1, 1, 0, 2, 3, false],
        [1, 1, 8, 7, 2, 3, 3, 2, 1, 1, 1, 1, true],
        [1, 2, 5, 257, 3, 5, 1, 1, 1, 2, 1, 1, false],
        [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, false],
    ];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void MaxPool2d_forward_matches_naive_loops(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool ceil)
    {
        var x = NaivePool.Random(1, n * c * h * w);
        var expected = NaivePool.Max(x, n * c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil, out int oh, out int ow);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var y = F.MaxPool2d(NaivePool.Make(x, dtype, n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil);
            Assert.Equal(new[] { n, c, oh, ow }, y.ShapeArray);
            TestTensors.AssertClose(expected, NaivePool.Values(y), 1e-7, 0, $"MaxPool2d {dtype.Name()}");
        }
    }

    [Theory]
    [InlineData(8, 3, 2, 0, false, 3)]
    [InlineData(8, 3, 2, 0, true, 4)]
    [InlineData(5, 2, 2, 1, true, 3)]
    [InlineData(4, 3, 2, 1, false, 2)]
    [InlineData(4, 3, 2, 1, true, 3)]
    [InlineData(7, 2, 3, 0, true, 3)]
    public void MaxPool2d_output_size_follows_pytorch(int size, int kernel, int stride, int padding, bool ceil, int expected)
    {
        var y = F.MaxPool2d(Tensor.Zeros([1, 1, size, size]), kernel, stride, padding, ceilMode: ceil);
        Assert.Equal(new[] { 1, 1, expected, expected }, y.ShapeArray);
    }

    [Fact]
    public void MaxPool2d_stride_defaults_to_the_kernel_size()
    {
        var x = Tensor.From<float>([1, 5, 2, 0, 3, 4, 8, 1, 9, 2, 6, 7, 0, 1, 3, 2], 1, 1, 4, 4);
        Assert.Equal(new float[] { 5, 8, 9, 7 }, F.MaxPool2d(x, 2).ToArray<float>());
    }

    [Fact]
    public void MaxPool2d_gradient_goes_to_the_first_maximum_and_sums_over_overlapping_windows()
    {
        // Windows (2x2, stride 1) over [[1, 3, 2], [0, 3, 1]]: both maxima are the 3 at (0, 1) (first of a tie).
        var x = Tensor.From<double>([1, 3, 2, 0, 3, 1], 1, 1, 2, 3);
        x.RequiresGrad = true;
        var y = F.MaxPool2d(x, 2, stride: 1);
        Assert.Equal(new double[] { 3, 3 }, y.ToArray<double>());
        y.Backward(Tensor.From<double>([1, 10], 1, 1, 1, 2));
        Assert.Equal(new double[] { 0, 11, 0, 0, 0, 0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void MaxPool2d_propagates_nan()
    {
        var x = Tensor.From<float>([1, float.NaN, 2, 3, 4, 5, 6, 7], 1, 1, 2, 4);
        var y = F.MaxPool2d(x, 2).ToArray<float>();
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(7, y[1]);
    }

    [Fact]
    public void MaxPool2d_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(2, 2 * 2 * 7 * 6), 2, 2, 7, 6);
        x.RequiresGrad = true;
        GradCheck.Check(t => F.MaxPool2d(t[0], 3, 2, 1, ceilMode: true), [x]);
        GradCheck.Check(t => F.MaxPool2d(t[0], (2, 3), 1, (1, 0), dilation: (2, 1)), [x]);
    }

    [Fact]
    public void MaxPool2d_double_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaivePool.Random(3, 1 * 2 * 6 * 6), 1, 2, 6, 6);
        x.RequiresGrad = true;
        GradCheck.Check(t =>
        {
            // GradCheck evaluates the function with gradients off; the inner gradient needs them on.
            using var on = Engine.EnableGrad();
            var y = F.MaxPool2d(t[0], 3, 1, 1);
            var g = Engine.Grad([(y * y).Sum()], [t[0]], createGraph: true)[0]!;
            return g * g;
        }, [x]);
    }

    [Fact]
    public void MaxPool2d_accepts_unbatched_input()
    {
        var y = F.MaxPool2d(Tensor.From<float>([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2), 2);
        Assert.Equal(new[] { 2, 1, 1 }, y.ShapeArray);
        Assert.Equal(new float[] { 4, 8 }, y.ToArray<float>());
    }

    [Fact]
    public void MaxPool2d_errors_name_the_op_and_shapes()
    {
        var x = Tensor.Zeros([1, 2, 5, 5]);
        Assert.Equal("MaxPool2d: padding [2, 2] must be between 0 and half the kernel size [3, 3]: input [1, 2, 5, 5] float32",
            Assert.Throws<KilnShapeException>(() => F.MaxPool2d(x, 3, padding: 2)).Message);
        Assert.Contains("MaxPool2d: output would be 0x0", Assert.Throws<KilnShapeException>(() => F.MaxPool2d(x, 6)).Message);
        Assert.Contains("padding 'same' is not supported", Assert.Throws<KilnShapeException>(() => F.MaxPool2d(x, 3, padding: Padding.Same)).Message);
        Assert.Contains("input must have 4 dimensions", Assert.Throws<KilnShapeException>(() => F.MaxPool2d(Tensor.Zeros([5, 5]), 2)).Message);
    }
}
