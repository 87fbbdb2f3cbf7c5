using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class InitTests
{
    private static (double Mean, double Variance, double MaxAbs) Stats(Tensor t)
    {
        var v = TestTensors.Values(t);
        double mean = v.Average();
        return (mean, v.Average(x => (x - mean) * (x - mean)), v.Max(Math.Abs));
    }

    [Theory]
    [InlineData(Nonlinearity.Linear, null, 1.0)]
    [InlineData(Nonlinearity.Conv2d, null, 1.0)]
    [InlineData(Nonlinearity.Sigmoid, null, 1.0)]
    [InlineData(Nonlinearity.Tanh, null, 5.0 / 3)]
    [InlineData(Nonlinearity.Relu, null, 1.4142135623730951)]
    [InlineData(Nonlinearity.LeakyRelu, null, 1.4141428569978354)]
    [InlineData(Nonlinearity.LeakyRelu, 0.2, 1.3867504905630728)]
    [InlineData(Nonlinearity.Selu, null, 0.75)]
    public void CalculateGain_matches_pytorch(Nonlinearity nonlinearity, double? param, double expected)
    {
        // torch.nn.init.calculate_gain('leaky_relu') = 1.4141428569978354, calculate_gain('leaky_relu', 0.2) = 1.3867504905630728
        Assert.Equal(expected, Init.CalculateGain(nonlinearity, param), 14);
    }

    [Fact]
    public void KaimingUniform_stays_within_its_bound_and_has_its_variance()
    {
        Engine.ManualSeed(1);
        var w = Tensor.Zeros([256, 128, 3, 3]);
        Assert.Same(w, Init.KaimingUniform(w));
        double bound = Math.Sqrt(2) * Math.Sqrt(3.0 / (128 * 9));
        var (mean, variance, maxAbs) = Stats(w);
        Assert.InRange(maxAbs, 0.999 * bound, bound);
        Assert.InRange(mean, -0.01 * bound, 0.01 * bound);
        Assert.InRange(variance, bound * bound / 3 * 0.98, bound * bound / 3 * 1.02);

        var fanOut = Tensor.Zeros([64, 32], DType.Float64);
        Init.KaimingUniform(fanOut, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        Assert.InRange(Stats(fanOut).MaxAbs, 0.98 * Math.Sqrt(6.0 / 64), Math.Sqrt(6.0 / 64));
    }

    [Fact]
    public void KaimingNormal_and_xavier_have_their_standard_deviations()
    {
        Engine.ManualSeed(2);
        var k = Init.KaimingNormal(Tensor.Zeros([400, 250]), nonlinearity: Nonlinearity.Relu);
        Assert.InRange(Math.Sqrt(Stats(k).Variance), 0.98 * Math.Sqrt(2.0 / 250), 1.02 * Math.Sqrt(2.0 / 250));
        var xn = Init.XavierNormal(Tensor.Zeros([400, 250]), gain: 2);
        Assert.InRange(Math.Sqrt(Stats(xn).Variance), 0.98 * 2 * Math.Sqrt(2.0 / 650), 1.02 * 2 * Math.Sqrt(2.0 / 650));
        var xu = Init.XavierUniform(Tensor.Zeros([400, 250]));
        double a = Math.Sqrt(6.0 / 650);
        var (mean, variance, maxAbs) = Stats(xu);
        Assert.InRange(maxAbs, 0.999 * a, a);
        Assert.InRange(variance, a * a / 3 * 0.98, a * a / 3 * 1.02);
        Assert.InRange(mean, -0.01 * a, 0.01 * a);
    }

    [Theory]
    [InlineData(6, 6)]
    [InlineData(5, 12)]
    [InlineData(12, 5)]
    public void Orthogonal_gives_orthonormal_rows_or_columns_times_the_gain(int rows, int cols)
    {
        Engine.ManualSeed(3);
        var w = Tensor.Zeros([rows, cols], DType.Float64);
        Init.Orthogonal(w, gain: 2);
        var m = w.ToArray2D<double>();
        int inner = rows <= cols ? cols : rows, outer = Math.Min(rows, cols);
        for (int i = 0; i < outer; i++)
            for (int j = 0; j < outer; j++)
            {
                double dot = 0;
                for (int k = 0; k < inner; k++) dot += rows <= cols ? m[i, k] * m[j, k] : m[k, i] * m[k, j];
                Assert.Equal(i == j ? 4.0 : 0.0, dot, 10);
            }
    }

    [Fact]
    public void Orthogonal_flattens_trailing_dimensions_and_works_in_float32()
    {
        Engine.ManualSeed(4);
        var w = Init.Orthogonal(Tensor.Zeros([4, 2, 3, 3]));
        var flat = w.Reshape(4, 18).ToArray2D<float>();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double dot = 0;
                for (int k = 0; k < 18; k++) dot += (double)flat[i, k] * flat[j, k];
                Assert.Equal(i == j ? 1.0 : 0.0, dot, 5);
            }
        Assert.Throws<ArgumentException>(() => Init.Orthogonal(Tensor.Zeros([5])));
    }

    [Fact]
    public void Simple_initializers_fill_in_place_without_recording_a_gradient()
    {
        var p = Tensor.Zeros([3, 4]);
        p.RequiresGrad = true;
        Assert.Same(p, Init.Constant(p, 2.5));
        Assert.All(p.ToArray<float>(), v => Assert.Equal(2.5f, v));
        Assert.True(p.IsLeaf);
        Init.Ones(p);
        Assert.All(p.ToArray<float>(), v => Assert.Equal(1f, v));
        Init.Zeros(p);
        Assert.All(p.ToArray<float>(), v => Assert.Equal(0f, v));
        Engine.ManualSeed(5);
        Init.Uniform(p, -0.5, 0.25);
        Assert.All(p.ToArray<float>(), v => Assert.InRange(v, -0.5f, 0.25f));
        Engine.ManualSeed(5);
        var again = Init.Uniform(Tensor.Zeros([3, 4]), -0.5, 0.25);
        Assert.Equal(p.ToArray<float>(), again.ToArray<float>());
        var big = Init.Normal(Tensor.Zeros([20000], DType.Float64), 3, 0.5);
        var (mean, variance, _) = Stats(big);
        Assert.InRange(mean, 2.98, 3.02);
        Assert.InRange(variance, 0.24, 0.26);
        Assert.True(p.IsLeaf);
    }

    [Fact]
    public void Initializers_write_through_views()
    {
        var t = Tensor.Zeros([4, 6]);
        Init.Constant(t.Slice(1, 0, 6, 2), 1);
        Assert.Equal([1f, 0f, 1f, 0f, 1f, 0f], t.Select(0, 2).ToArray<float>());
    }

    [Fact]
    public void Fan_based_initializers_reject_vectors()
    {
        Assert.Throws<ArgumentException>(() => Init.KaimingUniform(Tensor.Zeros([5])));
        Assert.Throws<ArgumentException>(() => Init.XavierNormal(Tensor.Zeros([5])));
        Assert.Throws<ArgumentException>(() => Init.Uniform(Tensor.Zeros([5], DType.Int64)));
    }

    [Fact]
    public void Layers_built_while_skipping_initialization_draw_nothing_and_drawing_resumes_after()
    {
        Engine.ManualSeed(9);
        var before = Engine.GetRngState();
        using (Init.Skipping())
        {
            var layer = new Linear(30, 20);
            var conv = new Conv2d(3, 4, 3);
            var w = Init.Orthogonal(Tensor.Zeros([4, 6]));
            Assert.All(w.ToArray<float>(), v => Assert.Equal(0f, v));
            Assert.Equal(new[] { 20, 30 }, layer.Weight.ShapeArray);
            Assert.Equal(before, Engine.GetRngState());
        }
        var drawn = Init.Uniform(Tensor.Zeros([8]), -1, 1).ToArray<float>();
        Assert.NotEqual(before, Engine.GetRngState());
        Assert.Contains(drawn, v => v != 0);
    }
}
