using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.Ops.Conv;

public sealed class Conv1dTests
{
    private static double[] Naive(double[] x, int n, int c, int length, double[] w, int o, int k, int stride, int padLeft, int padRight, int dilation, int groups, out int outLength)
    {
        outLength = (length + padLeft + padRight - dilation * (k - 1) - 1) / stride + 1;
        int cg = c / groups, og = o / groups;
        var y = new double[n * o * outLength];
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < o; oc++)
        for (int i = 0; i < outLength; i++)
        for (int ic = 0; ic < cg; ic++)
        for (int j = 0; j < k; j++)
        {
            int at = i * stride - padLeft + j * dilation;
            if (at < 0 || at >= length) continue;
            y[(b * o + oc) * outLength + i] += x[(b * c + oc / og * cg + ic) * length + at] * w[(oc * cg + ic) * k + j];
        }
        return y;
    }

    [Theory]
    [InlineData(2, 3, 17, 4, 3, 1, 0, 1, 1)]
    [InlineData(1, 4, 20, 6, 5, 2, 2, 1, 2)]
    [InlineData(2, 3, 15, 3, 3, 1, 2, 3, 3)]
    [InlineData(1, 2, 9, 5, 1, 1, 0, 1, 1)]
    public void Conv1d_forward_matches_naive_loops(int n, int c, int length, int o, int k, int stride, int padding, int dilation, int groups)
    {
        var x = NaiveConv.Random(1, n * c * length);
        var w = NaiveConv.Random(2, o * c / groups * k);
        var expected = Naive(x, n, c, length, w, o, k, stride, padding, padding, dilation, groups, out int outLength);
        var y = F.Conv1d(Tensor.From<double>(x, n, c, length), Tensor.From<double>(w, o, c / groups, k), stride: stride, padding: padding, dilation: dilation, groups: groups);
        Assert.Equal(new[] { n, o, outLength }, y.ShapeArray);
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "Conv1d");
    }

    [Fact]
    public void Conv1d_same_padding_keeps_the_length_with_the_odd_element_at_the_end()
    {
        var x = NaiveConv.Random(3, 2 * 10);
        var w = NaiveConv.Random(4, 3 * 2 * 4);
        var expected = Naive(x, 1, 2, 10, w, 3, 4, 1, 1, 2, 1, 1, out int outLength);
        var y = F.Conv1d(Tensor.From<double>(x, 1, 2, 10), Tensor.From<double>(w, 3, 2, 4), padding: Padding.Same);
        Assert.Equal(10, outLength);
        Assert.Equal(new[] { 1, 3, 10 }, y.ShapeArray);
        TestTensors.AssertClose(expected, y.ToArray<double>(), 1e-12, 1e-12, "Conv1d same");
    }

    [Fact]
    public void Conv1d_backward_matches_finite_differences()
    {
        var x = Tensor.From<double>(NaiveConv.Random(5, 2 * 4 * 9), 2, 4, 9);
        var w = Tensor.From<double>(NaiveConv.Random(6, 4 * 2 * 3), 4, 2, 3);
        var b = Tensor.From<double>(NaiveConv.Random(7, 4));
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        GradCheck.Check(t => F.Conv1d(t[0], t[1], t[2], stride: 2, padding: 1, dilation: 2, groups: 2), [x, w, b]);
    }

    [Fact]
    public void Conv1d_accepts_unbatched_input()
    {
        var y = F.Conv1d(Tensor.Ones([3, 8]), Tensor.Ones([2, 3, 3]), Tensor.From(new float[] { 1, -1 }));
        Assert.Equal(new[] { 2, 6 }, y.ShapeArray);
        Assert.Equal(new float[] { 10, 10, 10, 10, 10, 10, 8, 8, 8, 8, 8, 8 }, y.ToArray<float>());
    }

    [Fact]
    public void Conv1d_errors_name_the_op_and_the_1d_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => F.Conv1d(Tensor.Zeros([2, 3, 10]), Tensor.Zeros([4, 2, 3])));
        Assert.Equal("Conv1d: input has 3 channels, weight expects 2 (groups=1): input [2, 3, 10] float32, weight [4, 2, 3] float32", ex.Message);
        Assert.Contains("Conv1d: weight must have 3 dimensions", Assert.Throws<KilnShapeException>(() => F.Conv1d(Tensor.Zeros([2, 3, 10]), Tensor.Zeros([4, 3, 1, 3]))).Message);
        Assert.Contains("Conv1d: kernel 1x11", Assert.Throws<KilnShapeException>(() => F.Conv1d(Tensor.Zeros([2, 3, 10]), Tensor.Zeros([4, 3, 11]))).Message);
        Assert.Contains("a 1-d convolution takes one", Assert.Throws<KilnShapeException>(() => F.Conv1d(Tensor.Zeros([2, 3, 10]), Tensor.Zeros([4, 3, 3]), padding: (1, 2))).Message);
    }
}
