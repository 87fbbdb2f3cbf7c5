using Kiln.NN;

namespace Kiln.Tests.Ops.Linalg;

public sealed class LinearTests
{
    private static Tensor Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[new Shape(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.From<float>(data, shape);
    }

    /// <summary>y[r, o] = b[o] + Σ_i x[r, i]·W[o, i] over the rows of x (all leading dimensions), by plain loops.</summary>
    private static double[] Naive(Tensor x, Tensor w, Tensor? b)
    {
        var xv = TestTensors.Values(x);
        var wv = TestTensors.Values(w);
        var bv = b is null ? null : TestTensors.Values(b);
        int outF = w.ShapeArray[0], inF = w.ShapeArray[1], rows = xv.Length / inF;
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = bv?[o] ?? 0;
                for (int i = 0; i < inF; i++) s += xv[r * inF + i] * wv[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    [Fact]
    public void Linear_gives_known_values()
    {
        var x = Tensor.From<float>([1, 2, 3, 4], 2, 2);
        var w = Tensor.From<float>([1, 0, 0, 1, 1, 1], 3, 2);
        var b = Tensor.From<float>([10, 20, 30], 3);
        Assert.Equal([11f, 22f, 33f, 13f, 24f, 37f], F.Linear(x, w, b).ToArray<float>());
        Assert.Equal([1f, 2f, 3f, 3f, 4f, 7f], F.Linear(x, w).ToArray<float>());
    }

    [Theory]
    [InlineData(new[] { 7 }, 5, true)]
    [InlineData(new[] { 33, 65 }, 17, true)]
    [InlineData(new[] { 2, 3, 40 }, 9, false)]
    [InlineData(new[] { 130, 300 }, 70, true)]
    [InlineData(new[] { 0, 4 }, 3, true)]
    public void Linear_matches_naive_loops(int[] xShape, int outFeatures, bool withBias)
    {
        var x = Random(1, xShape);
        var w = Random(2, outFeatures, xShape[^1]);
        var b = withBias ? Random(3, outFeatures) : null;
        var y = F.Linear(x, w, b);
        var expectedShape = xShape.ToArray();
        expectedShape[^1] = outFeatures;
        Assert.Equal(expectedShape, y.ShapeArray);
        TestTensors.AssertClose(Naive(x, w, b), TestTensors.Values(y), 1e-5, 1e-5, "Linear");
    }

    [Fact]
    public void Linear_reads_strided_inputs_and_weights()
    {
        // x is a transposed view, W a view of its stored transpose, b every other element.
        var x = Random(4, 6, 5).AsStrided([5, 6], [1, 5], 0);
        var w = Random(5, 6, 4).AsStrided([4, 6], [1, 4], 0);
        var b = Random(6, 8).AsStrided([4], [2], 0);
        TestTensors.AssertClose(Naive(x, w, b), TestTensors.Values(F.Linear(x, w, b)), 1e-5, 1e-5, "strided Linear");
    }

    [Fact]
    public void Linear_backward_gives_outer_products_and_bias_sums()
    {
        var x = Tensor.From<double>([1, 2, 3, 4, 5, 6], 2, 3);
        var w = Tensor.From<double>([1, 0, -1, 2, 1, 0], 2, 3);
        var b = Tensor.From<double>([0.5, -0.5], 2);
        foreach (var t in new[] { x, w, b }) t.RequiresGrad = true;
        var g = Tensor.From<double>([1, 2, 3, 4], 2, 2);
        (F.Linear(x, w, b) * g).Sum().Backward();
        // dW = gᵀ·x, db = Σ_rows g, dx = g·W.
        Assert.Equal([1 * 1 + 3 * 4.0, 1 * 2 + 3 * 5, 1 * 3 + 3 * 6, 2 * 1 + 4 * 4, 2 * 2 + 4 * 5, 2 * 3 + 4 * 6], w.Grad!.ToArray<double>());
        Assert.Equal([4.0, 6], b.Grad!.ToArray<double>());
        Assert.Equal([1 + 2 * 2.0, 2 * 1, -1, 3 + 4 * 2.0, 4 * 1, -3], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Linear_errors_name_the_feature_counts()
    {
        var ex = Assert.Throws<KilnShapeException>(() => F.Linear(Tensor.Zeros([8, 128]), Tensor.Zeros([10, 256]), Tensor.Zeros([10])));
        Assert.StartsWith("Linear: input has 128 features, expected 256", ex.Message);
        var noBias = Assert.Throws<KilnShapeException>(() => F.Linear(Tensor.Zeros([8, 128]), Tensor.Zeros([10, 256])));
        Assert.StartsWith("Linear: input has 128 features, expected 256", noBias.Message);
        var bias = Assert.Throws<KilnShapeException>(() => F.Linear(Tensor.Zeros([8, 4]), Tensor.Zeros([10, 4]), Tensor.Zeros([4])));
        Assert.Contains("bias has shape [4], expected [10]", bias.Message);
    }
}
