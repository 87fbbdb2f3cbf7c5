namespace Kiln.Tests.Ops.Nn;

using Shape = Kiln.Shape;

public sealed class SoftmaxTests
{
    private static Tensor Random(int seed, params int[] shape) => Kiln.Ops.OpSample.Uniform(seed, -5, 5, shape);

    [Fact]
    public void Softmax_rows_sum_to_one_along_any_dimension()
    {
        var x = Random(1, 3, 4, 5).To(DType.Float32);
        for (int dim = -3; dim < 3; dim++)
        {
            var sums = x.Softmax(dim).Sum(dim).ToArray<float>();
            Assert.All(sums, s => Assert.Equal(1f, s, 1e-5f));
        }
        Assert.Equal(x.Softmax(1).ToArray<float>(), x.Softmax(-2).ToArray<float>());
    }

    [Fact]
    public void Softmax_matches_hand_computation()
    {
        var y = Tensor.From<double>([1, 2, 3], 3).Softmax(0).ToArray<double>();
        double z = Math.E + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.E / z, y[0], 1e-15);
        Assert.Equal(Math.Exp(2) / z, y[1], 1e-15);
        Assert.Equal(Math.Exp(3) / z, y[2], 1e-15);
    }

    [Fact]
    public void Softmax_and_LogSoftmax_are_stable_at_1000()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.From<double>([1000, 1001, 1002], 3).To(dtype);
            var log = x.LogSoftmax(0).To(DType.Float64).ToArray<double>();
            double lse = Math.Log(1 + Math.Exp(-1) + Math.Exp(-2));
            Assert.Equal(-2 - lse, log[0], 1e-5);
            Assert.Equal(-1 - lse, log[1], 1e-5);
            Assert.Equal(-lse, log[2], 1e-5);
            var p = x.Softmax(0).To(DType.Float64).ToArray<double>();
            Assert.Equal(Math.Exp(-lse), p[2], 1e-6);
            var far = Tensor.From<double>([1000, -1000], 2).To(dtype).LogSoftmax(0).To(DType.Float64).ToArray<double>();
            Assert.Equal(0, far[0], 1e-6);
            Assert.Equal(-2000, far[1], 1e-3);
        }
    }

    [Fact]
    public void LogSoftmax_is_the_log_of_softmax()
    {
        var x = Random(2, 4, 6);
        var log = x.LogSoftmax(1).ToArray<double>();
        var p = x.Softmax(1).ToArray<double>();
        for (int i = 0; i < p.Length; i++) Assert.Equal(Math.Log(p[i]), log[i], 1e-13);
    }

    [Fact]
    public void Softmax_gradient_matches_hand_computation()
    {
        var x = Tensor.From<double>([0.1, -0.4, 0.9], 3);
        x.RequiresGrad = true;
        var w = new double[] { 1, -2, 0.5 };
        (x.Softmax(0) * Tensor.From<double>(w, 3)).Sum().Backward();
        var y = x.Detach().Softmax(0).ToArray<double>();
        double dot = y[0] * w[0] + y[1] * w[1] + y[2] * w[2];
        var g = x.Grad!.ToArray<double>();
        for (int i = 0; i < 3; i++) Assert.Equal(y[i] * (w[i] - dot), g[i], 1e-15);
    }

    [Fact]
    public void LogSoftmax_gradient_matches_hand_computation()
    {
        var x = Tensor.From<double>([0.1, -0.4, 0.9, 2, 1, 0], 2, 3);
        x.RequiresGrad = true;
        var w = new double[] { 1, -2, 0.5, 0, 3, 1 };
        (x.LogSoftmax(1) * Tensor.From<double>(w, 2, 3)).Sum().Backward();
        var y = x.Detach().Softmax(1).ToArray<double>();
        var g = x.Grad!.ToArray<double>();
        for (int r = 0; r < 2; r++)
        {
            double total = w[3 * r] + w[3 * r + 1] + w[3 * r + 2];
            for (int i = 0; i < 3; i++) Assert.Equal(w[3 * r + i] - y[3 * r + i] * total, g[3 * r + i], 1e-15);
        }
    }

    [Fact]
    public void Softmax_rejects_bad_dimensions_and_integers_naming_the_op_and_shape()
    {
        var x = Tensor.Zeros([2, 3]);
        var e = Assert.Throws<KilnShapeException>(() => x.Softmax(2));
        Assert.Contains("Softmax", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<KilnShapeException>(() => x.LogSoftmax(-3));
        Assert.Contains("LogSoftmax", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Int64).Softmax(1));
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void Softmax_of_a_scalar_is_one()
    {
        Assert.Equal(1f, Tensor.Scalar(3).Softmax(0).Item<float>());
        Assert.Equal(0f, Tensor.Scalar(3).LogSoftmax(-1).Item<float>());
    }
}
