using Kiln.Autograd;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN;

[Collection(RandomStateCollection.Name)]
public sealed class NormalizationTests
{
    [Fact]
    public void BatchNorm_training_normalizes_per_channel_and_updates_running_stats()
    {
        var x = Kiln.Ops.OpSample.Uniform(1, -3, 3, 4, 2, 3);
        var rm = Tensor.Zeros([2], DType.Float64);
        var rv = Tensor.Ones([2], DType.Float64);
        var y = F.BatchNorm(x, rm, rv, training: true, momentum: 0.1, eps: 0);
        var xv = x.ToArray<double>();
        var yv = y.ToArray<double>();
        for (int c = 0; c < 2; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < 4; n++) for (int i = 0; i < 3; i++) values.Add(xv[(n * 2 + c) * 3 + i]);
            double mean = values.Average();
            double var = values.Select(v => (v - mean) * (v - mean)).Sum() / values.Count;
            for (int n = 0; n < 4; n++)
                for (int i = 0; i < 3; i++)
                    Assert.Equal((xv[(n * 2 + c) * 3 + i] - mean) / Math.Sqrt(var), yv[(n * 2 + c) * 3 + i], 10);
            Assert.Equal(0.1 * mean, rm.ToArray<double>()[c], 12);
            Assert.Equal(0.9 + 0.1 * var * values.Count / (values.Count - 1), rv.ToArray<double>()[c], 12);
        }
    }

    [Fact]
    public void BatchNorm_eval_uses_running_stats_and_affine()
    {
        var x = Tensor.From<double>([1, 2, 3, 4], 2, 2);
        var rm = Tensor.From<double>([1, 2], 2);
        var rv = Tensor.From<double>([4, 1], 2);
        var w = Tensor.From<double>([2, 3], 2);
        var b = Tensor.From<double>([0.5, -1], 2);
        var y = F.BatchNorm(x, rm, rv, w, b, training: false, eps: 0).ToArray<double>();
        Assert.Equal([0.5, -1, 2.5, 5], y);
    }

    [Fact]
    public void Normalization_gradients_match_finite_differences()
    {
        var x = Kiln.Ops.OpSample.Uniform(2, -2, 2, 3, 4, 2);
        var w = Kiln.Ops.OpSample.Uniform(3, 0.5, 1.5, 4);
        var b = Kiln.Ops.OpSample.Uniform(4, -1, 1, 4);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        GradCheck.Check(v => F.BatchNorm(v[0], null, null, v[1], v[2], training: true), [x, w, b]);
        GradCheck.Check(v => F.GroupNorm(v[0], 2, v[1], v[2]), [x, w, b]);
        var lx = Kiln.Ops.OpSample.Uniform(5, -2, 2, 3, 5);
        var lw = Kiln.Ops.OpSample.Uniform(6, 0.5, 1.5, 5);
        var lb = Kiln.Ops.OpSample.Uniform(7, -1, 1, 5);
        lx.RequiresGrad = lw.RequiresGrad = lb.RequiresGrad = true;
        GradCheck.Check(v => F.LayerNorm(v[0], [5], v[1], v[2]), [lx, lw, lb]);
    }

    [Theory]
    [InlineData(new[] { 6, 3 })]
    [InlineData(new[] { 2, 3, 4, 5 })]
    public void BatchNorm_training_op_matches_its_composite_decomposition(int[] shape)
    {
        var x = Kiln.Ops.OpSample.Uniform(20, -1, 3, shape);
        var w = Kiln.Ops.OpSample.Uniform(21, 0.5, 1.5, shape[1]);
        var b = Kiln.Ops.OpSample.Uniform(22, -1, 1, shape[1]);
        var g = Kiln.Ops.OpSample.Uniform(23, -1, 1, shape);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        var channel = new int[shape.Length];
        Array.Fill(channel, 1);
        channel[1] = shape[1];
        var dims = Enumerable.Range(0, shape.Length).Where(d => d != 1).ToArray();

        // The decomposition F.BatchNorm used before the fused op: means, differences, products, broadcasts.
        var mean = x.Mean(dims, keepDim: true);
        var centered = x - mean;
        var variance = (centered * centered).Mean(dims, keepDim: true);
        var composite = centered * (variance + 1e-5).Rsqrt() * w.Reshape(channel) + b.Reshape(channel);
        var fused = F.BatchNorm(x, null, null, w, b, training: true);

        TestTensors.AssertClose(composite.ToArray<double>(), fused.ToArray<double>(), 1e-12, 1e-12, "forward");
        var expected = Engine.Grad([(composite * g).Sum()], [x, w, b]);
        var actual = Engine.Grad([(fused * g).Sum()], [x, w, b]);
        for (int i = 0; i < 3; i++)
            TestTensors.AssertClose(expected[i]!.ToArray<double>(), actual[i]!.ToArray<double>(), 1e-10, 1e-12, $"gradient {i}");
    }

    [Fact]
    public void BatchNorm_training_op_has_second_derivatives()
    {
        var x = Kiln.Ops.OpSample.Uniform(24, -1, 3, 3, 2, 4);
        var w = Kiln.Ops.OpSample.Uniform(25, 0.5, 1.5, 2);
        x.RequiresGrad = w.RequiresGrad = true;
        GradCheck.Check(v =>
        {
            using var tape = Engine.EnableGrad();
            var grads = Engine.Grad([(F.BatchNorm(v[0], null, null, v[1], null, training: true) * v[0]).Sum()], [v[0], v[1]], createGraph: true);
            return (grads[0]! * grads[0]!).Sum() + (grads[1]! * grads[1]!).Sum();
        }, [x, w]);
    }

    [Fact]
    public void BatchNorm_float32_training_matches_float64()
    {
        var x = Kiln.Ops.OpSample.Uniform(26, 100, 104, 16, 4, 6, 6);
        var expected = F.BatchNorm(x, null, null, training: true).ToArray<double>();
        var actual = F.BatchNorm(x.To(DType.Float32), null, null, training: true).To(DType.Float64).ToArray<double>();
        TestTensors.AssertClose(expected, actual, 1e-4, 1e-4, "float32 batch norm of values far from 0");
    }

    [Fact]
    public void LayerNorm_rows_have_zero_mean_and_unit_variance()
    {
        var x = Kiln.Ops.OpSample.Uniform(8, -5, 5, 6, 7);
        var y = F.LayerNorm(x, [7], eps: 0);
        var mean = y.Mean(1).ToArray<double>();
        var variance = y.Var(1, correction: 0).ToArray<double>();
        foreach (var m in mean) Assert.Equal(0, m, 10);
        foreach (var v in variance) Assert.Equal(1, v, 10);
    }

    [Fact]
    public void GroupNorm_with_one_group_per_channel_matches_per_channel_statistics()
    {
        var x = Kiln.Ops.OpSample.Uniform(9, -5, 5, 2, 3, 4);
        var y = F.GroupNorm(x, 3, eps: 0);
        var mean = y.Mean(2).ToArray<double>();
        foreach (var m in mean) Assert.Equal(0, m, 10);
        Assert.Contains("groups", Assert.Throws<KilnShapeException>(() => F.GroupNorm(x, 2)).Message);
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_p_and_scales_survivors()
    {
        Engine.ManualSeed(7);
        var x = Tensor.Ones([100_000]);
        var y = F.Dropout(x, 0.3).ToArray<float>();
        int kept = 0;
        foreach (var v in y)
        {
            if (v != 0) { kept++; Assert.Equal(1 / 0.7f, v, 5); }
        }
        Assert.InRange(kept / 100_000.0, 0.69, 0.71);
        Assert.Same(x, F.Dropout(x, 0.3, training: false));
    }

    [Fact]
    public void Dropout_gradient_uses_the_same_mask()
    {
        Engine.ManualSeed(8);
        var x = Tensor.Ones([1000], DType.Float64);
        x.RequiresGrad = true;
        var y = F.Dropout(x, 0.5);
        y.Sum().Backward();
        Assert.Equal(y.ToArray<double>(), x.Grad!.ToArray<double>());
    }
}
