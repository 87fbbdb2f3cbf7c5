using Kiln.Autograd;
using Kiln.NN;

namespace Kiln.Tests.NN;

public sealed class LossTests
{
    private static Tensor Logits(int n, int c, int seed = 1) => Kiln.Ops.OpSample.Uniform(seed, -2, 2, n, c);

    private static double[,] NaiveLogSoftmax(double[] x, int n, int c)
    {
        var r = new double[n, c];
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < c; j++) max = Math.Max(max, x[i * c + j]);
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.Exp(x[i * c + j] - max);
            for (int j = 0; j < c; j++) r[i, j] = x[i * c + j] - max - Math.Log(s);
        }
        return r;
    }

    [Fact]
    public void CrossEntropy_with_indices_matches_naive_mean()
    {
        var x = Logits(5, 4);
        var y = Tensor.From<long>([0, 3, 1, 1, 2], 5);
        var lp = NaiveLogSoftmax(x.ToArray<double>(), 5, 4);
        double expected = 0;
        var t = y.ToArray<long>();
        for (int i = 0; i < 5; i++) expected -= lp[i, t[i]];
        expected /= 5;
        Assert.Equal(expected, F.CrossEntropy(x, y).Item(), 10);
    }

    [Fact]
    public void CrossEntropy_with_weights_and_ignore_index_divides_by_weight_of_kept_targets()
    {
        var x = Logits(4, 3, seed: 2);
        var y = Tensor.From<long>([2, -100, 0, 2], 4);
        var w = Tensor.From<double>([0.5, 1.0, 2.0], 3);
        var lp = NaiveLogSoftmax(x.ToArray<double>(), 4, 3);
        double num = -(2.0 * lp[0, 2] + 0.5 * lp[2, 0] + 2.0 * lp[3, 2]);
        double den = 2.0 + 0.5 + 2.0;
        Assert.Equal(num / den, F.CrossEntropy(x, y, weight: w).Item(), 10);
        Assert.Equal(num, F.CrossEntropy(x, y, weight: w, reduction: Reduction.Sum).Item(), 10);
        var none = F.CrossEntropy(x, y, weight: w, reduction: Reduction.None).ToArray<double>();
        Assert.Equal(0.0, none[1]);
        Assert.Equal(-2.0 * lp[0, 2], none[0], 10);
    }

    [Fact]
    public void CrossEntropy_with_label_smoothing_matches_PyTorch_formula()
    {
        var x = Logits(3, 4, seed: 3);
        var y = Tensor.From<long>([1, 0, 3], 3);
        const double eps = 0.1;
        var lp = NaiveLogSoftmax(x.ToArray<double>(), 3, 4);
        double nll = 0, smooth = 0;
        var t = y.ToArray<long>();
        for (int i = 0; i < 3; i++)
        {
            nll -= lp[i, t[i]];
            for (int j = 0; j < 4; j++) smooth -= lp[i, j] / 4;
        }
        double expected = ((1 - eps) * nll + eps * smooth) / 3;
        Assert.Equal(expected, F.CrossEntropy(x, y, labelSmoothing: eps).Item(), 10);
    }

    [Fact]
    public void CrossEntropy_with_probabilities_matches_naive()
    {
        var x = Logits(3, 4, seed: 4);
        var p = Kiln.Ops.OpSample.Uniform(5, 0, 1, 3, 4);
        p = p / p.Sum(1, keepDim: true);
        var lp = NaiveLogSoftmax(x.ToArray<double>(), 3, 4);
        var pv = p.ToArray<double>();
        double expected = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) expected -= pv[i * 4 + j] * lp[i, j];
        Assert.Equal(expected / 3, F.CrossEntropy(x, p).Item(), 10);
    }

    [Fact]
    public void CrossEntropy_on_spatial_inputs_averages_over_every_position()
    {
        var x = Kiln.Ops.OpSample.Uniform(6, -1, 1, 2, 3, 2, 2);
        var y = Kiln.Ops.OpSample.Indices(7, 3, 2, 2, 2);
        var flat = x.Permute(0, 2, 3, 1).Reshape(-1, 3);
        var expected = F.CrossEntropy(flat, y.Reshape(-1)).Item();
        Assert.Equal(expected, F.CrossEntropy(x, y).Item(), 10);
    }

    [Fact]
    public void CrossEntropy_gradient_matches_finite_differences()
    {
        var x = Logits(4, 5, seed: 8);
        x.RequiresGrad = true;
        var y = Tensor.From<long>([4, 0, -100, 2], 4);
        var w = Tensor.From<double>([1, 2, 0.5, 1, 3], 5);
        GradCheck.Check(xs => F.CrossEntropy(xs[0], y, weight: w, labelSmoothing: 0.2), [x]);
        GradCheck.Check(xs => F.CrossEntropy(xs[0], y, reduction: Reduction.None), [x]);
    }

    [Fact]
    public void CrossEntropy_rejects_out_of_range_targets_and_bad_shapes()
    {
        var x = Logits(2, 3);
        var ex = Assert.Throws<KilnShapeException>(() => F.CrossEntropy(x, Tensor.From<long>([0, 3], 2)));
        Assert.Contains("3", ex.Message);
        Assert.Contains("CrossEntropy", Assert.Throws<KilnShapeException>(() => F.CrossEntropy(x, Tensor.From<long>([0, 1, 2], 3))).Message);
    }

    [Theory]
    [InlineData(Reduction.Mean, -100L, 0.0)]
    [InlineData(Reduction.Sum, 1L, 0.0)]
    [InlineData(Reduction.None, 2L, 0.0)]
    [InlineData(Reduction.Mean, 3L, 0.25)]
    [InlineData(Reduction.None, -100L, 0.1)]
    public void CrossEntropy_fused_op_matches_its_composite_decomposition(Reduction reduction, long ignoreIndex, double smoothing)
    {
        // Unit class weights give the same loss but take the composite path (log-softmax, gather, masks, sums).
        var x = Logits(6, 4, seed: 10);
        var y = Tensor.From<long>([0, 3, 1, 2, 3, 1], 6);
        var ones = Tensor.Ones([4], DType.Float64);
        x.RequiresGrad = true;
        var fused = F.CrossEntropy(x, y, ignoreIndex: ignoreIndex, reduction: reduction, labelSmoothing: smoothing);
        var fusedGrad = Engine.Grad([fused.Sum()], [x])[0]!.ToArray<double>();
        var composite = F.CrossEntropy(x, y, weight: ones, ignoreIndex: ignoreIndex, reduction: reduction, labelSmoothing: smoothing);
        var compositeGrad = Engine.Grad([composite.Sum()], [x])[0]!.ToArray<double>();
        TestTensors.AssertClose(composite.ToArray<double>(), fused.ToArray<double>(), 1e-12, 1e-12, "loss");
        TestTensors.AssertClose(compositeGrad, fusedGrad, 1e-12, 1e-12, "gradient");
    }

    [Fact]
    public void CrossEntropy_fused_op_has_second_derivatives()
    {
        var x = Logits(3, 4, seed: 11);
        x.RequiresGrad = true;
        var y = Tensor.From<long>([2, 0, 1], 3);
        GradGradCheck(xs => F.CrossEntropy(xs[0], y, labelSmoothing: 0.1), x);
    }

    /// <summary>The gradient of Σ (d loss/dx)² against finite differences: the backward op's own backward.</summary>
    private static void GradGradCheck(Func<Tensor[], Tensor> loss, Tensor x)
        => GradCheck.Check(xs =>
        {
            // GradCheck evaluates the function under NoGrad for its finite differences; the inner gradient needs the tape.
            using var tape = Engine.EnableGrad();
            var g = Engine.Grad([loss(xs)], [xs[0]], createGraph: true)[0]!;
            return (g * g).Sum();
        }, [x]);

    [Fact]
    public void CrossEntropy_with_int32_targets_matches_int64()
    {
        var x = Logits(3, 5, seed: 12);
        var y = Tensor.From<long>([4, 0, 2], 3);
        Assert.Equal(F.CrossEntropy(x, y).Item(), F.CrossEntropy(x, y.To(DType.Int32)).Item(), 15);
    }

    [Fact]
    public void NllLoss_picks_negative_log_probabilities()
    {
        var lp = Tensor.From<double>([-1, -2, -3, -0.5, -1.5, -2.5], 2, 3);
        var y = Tensor.From<long>([2, 0], 2);
        Assert.Equal((3 + 0.5) / 2, F.NllLoss(lp, y).Item(), 12);
    }

    [Fact]
    public void Regression_losses_match_hand_values()
    {
        var a = Tensor.From<double>([1, -2, 3, 0.25], 4);
        var b = Tensor.From<double>([0.5, 1, 3, -0.25], 4);
        Assert.Equal((0.25 + 9 + 0 + 0.25) / 4, F.MseLoss(a, b).Item(), 12);
        Assert.Equal((0.5 + 3 + 0 + 0.5) / 4, F.L1Loss(a, b).Item(), 12);
        // |d| = 0.5, 3, 0, 0.5 with beta 1: 0.125, 2.5, 0, 0.125
        Assert.Equal((0.125 + 2.5 + 0 + 0.125) / 4, F.SmoothL1Loss(a, b).Item(), 12);
        Assert.Equal(0.125 + 2.5 + 0 + 0.125, F.SmoothL1Loss(a, b, Reduction.Sum).Item(), 12);
    }

    [Fact]
    public void Binary_cross_entropy_losses_match_hand_values_and_each_other()
    {
        var logits = Tensor.From<double>([-3, -0.5, 0, 2, 5], 5);
        var t = Tensor.From<double>([0, 1, 0.5, 1, 0], 5);
        var xs = logits.ToArray<double>();
        var ts = t.ToArray<double>();
        double expected = 0;
        for (int i = 0; i < 5; i++)
        {
            double p = 1 / (1 + Math.Exp(-xs[i]));
            expected -= ts[i] * Math.Log(p) + (1 - ts[i]) * Math.Max(Math.Log(1 - p), -100);
        }
        expected /= 5;
        Assert.Equal(expected, F.BceWithLogitsLoss(logits, t).Item(), 10);
        var probs = logits.Sigmoid();
        Assert.Equal(expected, F.BceLoss(probs, t).Item(), 10);
    }

    [Fact]
    public void BceWithLogits_is_stable_for_large_logits()
    {
        var logits = Tensor.From<float>([1000f, -1000f], 2);
        var t = Tensor.From<float>([0f, 1f], 2);
        Assert.Equal(1000.0, F.BceWithLogitsLoss(logits, t).Item(), 3);
    }

    [Fact]
    public void BceWithLogits_pos_weight_scales_positive_term()
    {
        var x = Tensor.From<double>([0.3, -1.2], 2);
        var t = Tensor.From<double>([1, 0.25], 2);
        var pw = Tensor.From<double>([2, 3], 2);
        double Sp(double v) => Math.Log(1 + Math.Exp(v));
        double l0 = (1 - 1) * 0.3 + (1 + (2 - 1) * 1) * Sp(-0.3);
        double l1 = (1 - 0.25) * -1.2 + (1 + (3 - 1) * 0.25) * Sp(1.2);
        Assert.Equal((l0 + l1) / 2, F.BceWithLogitsLoss(x, t, posWeight: pw).Item(), 10);
    }

    [Fact]
    public void Loss_gradients_match_finite_differences()
    {
        var a = Kiln.Ops.OpSample.Uniform(9, -2, 2, 3, 4);
        var b = Kiln.Ops.OpSample.Uniform(10, -2, 2, 3, 4);
        var probs = Kiln.Ops.OpSample.Uniform(11, 0.05, 0.95, 3, 4);
        var t = Kiln.Ops.OpSample.Uniform(12, 0, 1, 3, 4);
        a.RequiresGrad = true;
        probs.RequiresGrad = true;
        GradCheck.Check(xs => F.MseLoss(xs[0], b), [a]);
        GradCheck.Check(xs => F.L1Loss(xs[0], b), [a]);
        GradCheck.Check(xs => F.SmoothL1Loss(xs[0], b, beta: 0.7), [a]);
        GradCheck.Check(xs => F.BceWithLogitsLoss(xs[0], t, posWeight: Tensor.Full([4], 1.5, DType.Float64)), [a]);
        GradCheck.Check(xs => F.BceLoss(xs[0], t), [probs]);
    }

    [Fact]
    public void Loss_shape_mismatch_names_the_loss_and_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => F.MseLoss(Tensor.Zeros([2, 3]), Tensor.Zeros([3, 2])));
        Assert.Contains("MseLoss", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[3, 2]", ex.Message);
    }
}
