using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Ops.Conv;

public sealed class Conv2dTests
{
    // input shape, weight shape, stride (h, w), padding (h, w), dilation (h, w), groups
    public static TheoryData<int[], int[], int, int, int, int, int, int, int> Configurations() => new()
    {
        { [2, 3, 7, 9], [4, 3, 3, 3], 1, 1, 0, 0, 1, 1, 1 },
        { [1, 3, 11, 13], [5, 3, 5, 3], 2, 3, 2, 1, 1, 1, 1 },
        { [2, 4, 9, 10], [6, 2, 3, 2], 1, 2, 1, 0, 2, 3, 2 },
        { [1, 5, 8, 7], [5, 1, 3, 3], 1, 1, 1, 1, 1, 1, 5 },
        { [2, 3, 9, 9], [6, 1, 3, 3], 2, 2, 1, 1, 2, 2, 3 },
        { [2, 6, 5, 7], [4, 6, 1, 1], 1, 1, 0, 0, 1, 1, 1 },
        { [1, 6, 5, 7], [4, 3, 1, 1], 2, 1, 0, 0, 1, 1, 2 },
        { [3, 1, 28, 28], [8, 1, 5, 5], 1, 1, 2, 2, 1, 1, 1 },
        { [1, 2, 1, 31], [3, 2, 1, 4], 1, 3, 0, 2, 1, 2, 1 },
        { [1, 2, 13, 1], [2, 2, 3, 1], 3, 1, 1, 0, 1, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Conv2d_forward_matches_naive_loops(int[] xs, int[] ws, int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        var x = NaiveConv.Random(1, xs.Aggregate(1, (a, b) => a * b));
        var w = NaiveConv.Random(2, ws.Aggregate(1, (a, b) => a * b));
        var expected = NaiveConv.Conv2d(x, xs, w, ws, sh, sw, ph, pw, ph, pw, dh, dw, groups, out var shape);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var y = F.Conv2d(NaiveConv.Make(x, dtype, xs), NaiveConv.Make(w, dtype, ws), stride: (sh, sw), padding: (ph, pw), dilation: (dh, dw), groups: groups);
            Assert.Equal(shape, y.ShapeArray);
            Assert.Equal(dtype, y.DType);
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
            TestTensors.AssertClose(expected, NaiveConv.Values(y), tol, tol, $"Conv2d {dtype.Name()}");
        }
    }

    [Fact]
    public void Conv2d_adds_the_bias_per_output_channel()
    {
        int[] xs = [2, 3, 6, 5], ws = [4, 3, 3, 3];
        var x = NaiveConv.Random(3, 180);
        var w = NaiveConv.Random(4, 108);
        double[] b = [0.5, -1, 2, 0.25];
        var expected = NaiveConv.Conv2d(x, xs, w, ws, 1, 1, 1, 1, 1, 1, 1, 1, 1, out var shape);
        int plane = shape[2] * shape[3];
        for (int i = 0; i < expected.Length; i++) expected[i] += b[i / plane % 4];
        var y = F.Conv2d(Tensor.From<double>(x, xs), Tensor.From<double>(w, ws), Tensor.From(b), padding: 1);
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "Conv2d with bias");
    }

    [Fact]
    public void Conv2d_on_a_large_image_matches_naive_loops_across_row_bands()
    {
        // 64 channels · 3·3 taps · 70 columns of float64 is ~320 KiB per output row, so the unfolded
        // matrix is built in several bands of rows.
        int[] xs = [1, 64, 70, 70], ws = [3, 64, 3, 3];
        var x = NaiveConv.Random(5, 64 * 70 * 70);
        var w = NaiveConv.Random(6, 3 * 64 * 9);
        var expected = NaiveConv.Conv2d(x, xs, w, ws, 1, 1, 1, 1, 1, 1, 1, 1, 1, out _);
        var y = F.Conv2d(Tensor.From<double>(x, xs), Tensor.From<double>(w, ws), padding: 1);
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-11, 1e-11, "banded Conv2d");
    }

    [Theory]
    [InlineData(3, 1, 1)]
    [InlineData(4, 1, 1)]
    [InlineData(5, 2, 1)]
    [InlineData(2, 3, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(4, 1, 3)]
    public void Conv2d_same_padding_keeps_the_size_and_pads_odd_totals_at_the_end(int kernel, int dilation, int stride)
    {
        int[] xs = [1, 2, 9, 8], ws = [3, 2, kernel, kernel];
        var x = NaiveConv.Random(7, 144);
        var w = NaiveConv.Random(8, 6 * kernel * kernel);
        var y = F.Conv2d(Tensor.From<double>(x, xs), Tensor.From<double>(w, ws), stride: stride, padding: Padding.Same, dilation: dilation);
        int oh = (9 + stride - 1) / stride, ow = (8 + stride - 1) / stride;
        Assert.Equal(new[] { 1, 3, oh, ow }, y.ShapeArray);
        // The total padding makes the last window end at the last input row; its odd element goes below / right.
        int totalH = Math.Max((oh - 1) * stride + dilation * (kernel - 1) + 1 - 9, 0);
        int totalW = Math.Max((ow - 1) * stride + dilation * (kernel - 1) + 1 - 8, 0);
        var expected = NaiveConv.Conv2d(x, xs, w, ws, stride, stride, totalH / 2, totalW / 2, totalH - totalH / 2, totalW - totalW / 2,
            dilation, dilation, 1, out var shape);
        Assert.Equal(shape, y.ShapeArray);
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "same padding");
    }

    [Fact]
    public void Conv2d_same_padding_with_an_even_kernel_pads_one_more_row_below()
    {
        // A 2x2 kernel of ones over a 2x2 image of 1, 2, 3, 4: "same" adds one row below and one column
        // right, so the outputs are the sums of the windows starting at each pixel.
        var x = Tensor.From<double>([1, 2, 3, 4], 1, 1, 2, 2);
        var w = Tensor.Ones([1, 1, 2, 2], DType.Float64);
        var y = F.Conv2d(x, w, padding: Padding.Same);
        Assert.Equal(new double[] { 10, 6, 7, 4 }, y.ToArray<double>());
    }

    [Fact]
    public void Conv2d_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaiveConv.Random(9, 2 * 4 * 5 * 6), 2, 4, 5, 6);
        var w = Tensor.From<double>(NaiveConv.Random(10, 6 * 2 * 3 * 2), 6, 2, 3, 2);
        var b = Tensor.From<double>(NaiveConv.Random(11, 6));
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2), [x, w, b]);
    }

    [Fact]
    public void Conv2d_backward_with_same_padding_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaiveConv.Random(12, 1 * 2 * 5 * 4), 1, 2, 5, 4);
        var w = Tensor.From<double>(NaiveConv.Random(13, 3 * 2 * 4 * 2), 3, 2, 4, 2);
        var b = Tensor.From<double>(NaiveConv.Random(14, 3));
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], padding: Padding.Same), [x, w, b]);
    }

    [Fact]
    public void Conv2d_bias_gradient_is_the_output_gradient_summed_over_batch_and_space()
    {
        var x = Tensor.From<double>(NaiveConv.Random(15, 2 * 3 * 4 * 4), 2, 3, 4, 4);
        var w = Tensor.From<double>(NaiveConv.Random(16, 5 * 3 * 3 * 3), 5, 3, 3, 3);
        var b = Tensor.Zeros([5], DType.Float64);
        b.RequiresGrad = true;
        var upstream = NaiveConv.Random(17, 2 * 5 * 2 * 2);
        var y = F.Conv2d(x, w, b);
        y.Backward(Tensor.From<double>(upstream, 2, 5, 2, 2));
        var expected = new double[5];
        for (int i = 0; i < upstream.Length; i++) expected[i / 4 % 5] += upstream[i];
        TestTensors.AssertClose(expected, b.Grad!.ToArray<double>(), 1e-12, 1e-12, "bias gradient");
    }

    [Fact]
    public void Conv2d_double_backward_matches_finite_differences()
    {
        // The gradients of Conv2d are themselves ops; differentiate the input gradient again.
        var x = Tensor.From<double>(NaiveConv.Random(18, 1 * 2 * 5 * 5), 1, 2, 5, 5);
        var w = Tensor.From<double>(NaiveConv.Random(19, 3 * 2 * 3 * 3), 3, 2, 3, 3);
        var r = Tensor.From<double>(NaiveConv.Random(20, 1 * 3 * 3 * 3), 1, 3, 3, 3);
        x.RequiresGrad = w.RequiresGrad = true;
        GradCheck.Check(t =>
        {
            // GradCheck evaluates the function with gradients off; the inner gradient needs them on.
            using var on = Engine.EnableGrad();
            var y = F.Conv2d(t[0], t[1], stride: 1, padding: 1, dilation: 2);
            var loss = (y * y * r).Sum();
            var grads = Engine.Grad([loss], [t[0], t[1]], createGraph: true);
            return grads[0]!.Sum() + (grads[1]! * grads[1]!).Sum();
        }, [x, w]);
    }

    [Fact]
    public void Conv2d_accepts_unbatched_input()
    {
        var x = NaiveConv.Random(21, 3 * 6 * 6);
        var w = NaiveConv.Random(22, 2 * 3 * 3 * 3);
        var batched = F.Conv2d(Tensor.From<double>(x, 1, 3, 6, 6), Tensor.From<double>(w, 2, 3, 3, 3));
        var single = F.Conv2d(Tensor.From<double>(x, 3, 6, 6), Tensor.From<double>(w, 2, 3, 3, 3));
        Assert.Equal(new[] { 2, 4, 4 }, single.ShapeArray);
        Assert.Equal(batched.ToArray<double>(), single.ToArray<double>());
    }

    [Fact]
    public void Conv2d_channel_mismatch_names_op_shapes_and_expectation()
    {
        var ex = Assert.Throws<KilnShapeException>(() => F.Conv2d(Tensor.Zeros([8, 3, 28, 28]), Tensor.Zeros([32, 1, 5, 5])));
        Assert.Equal("Conv2d: input has 3 channels, weight expects 1 (groups=1): input [8, 3, 28, 28] float32, weight [32, 1, 5, 5] float32", ex.Message);
    }

    [Fact]
    public void Conv2d_errors_name_the_problem()
    {
        var x = Tensor.Zeros([1, 4, 6, 6]);
        Assert.Contains("groups=4 does not divide", Assert.Throws<KilnShapeException>(() => F.Conv2d(x, Tensor.Zeros([6, 1, 3, 3]), groups: 4)).Message);
        Assert.Contains("larger than the padded input 6x6", Assert.Throws<KilnShapeException>(() => F.Conv2d(x, Tensor.Zeros([2, 4, 7, 7]))).Message);
        Assert.Contains("larger than the padded input 6x6", Assert.Throws<KilnShapeException>(() => F.Conv2d(x, Tensor.Zeros([2, 4, 3, 3]), dilation: 3)).Message);
        Assert.Contains("stride [0, 1] must be positive", Assert.Throws<KilnShapeException>(() => F.Conv2d(x, Tensor.Zeros([2, 4, 3, 3]), stride: (0, 1))).Message);
        Assert.Contains("must be float32 or float64", Assert.Throws<KilnShapeException>(() => F.Conv2d(Tensor.Zeros([1, 4, 6, 6], DType.Int32), Tensor.Zeros([2, 4, 3, 3], DType.Int32))).Message);
        Assert.Contains("input must have 4 dimensions", Assert.Throws<KilnShapeException>(() => F.Conv2d(Tensor.Zeros([6, 6]), Tensor.Zeros([2, 4, 3, 3]))).Message);
        var bias = Assert.Throws<KilnShapeException>(() => F.Conv2d(x, Tensor.Zeros([2, 4, 3, 3]), Tensor.Zeros([3])));
        Assert.Equal("Conv2d: bias must be [2] float32 (one value per output channel): input [1, 4, 6, 6] float32, weight [2, 4, 3, 3] float32, bias [3] float32", bias.Message);
    }

    [Fact]
    public void Conv2d_of_an_empty_batch_is_empty_and_its_weight_gradient_zero()
    {
        var x = Tensor.Zeros([0, 2, 5, 5], DType.Float64);
        var w = Tensor.Ones([3, 2, 3, 3], DType.Float64);
        w.RequiresGrad = true;
        var y = F.Conv2d(x, w);
        Assert.Equal(new[] { 0, 3, 3, 3 }, y.ShapeArray);
        y.Sum().Backward();
        Assert.All(w.Grad!.ToArray<double>(), v => Assert.Equal(0, v));
    }
}
