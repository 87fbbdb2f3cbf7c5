using Kiln.Autograd;
using Kiln.NN;
using Kiln.Ops;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

/// <summary>
/// The expected running statistics were computed by PyTorch 1.13 (float64 modules) on the same inputs:
/// element i of the batch of step s is sin(0.7 i + 1.3 s)·(1 + 0.1 s) + 0.2 s.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class BatchNormModuleTests
{
    private static Tensor Batch(int step, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.Sin(0.7 * i + 1.3 * step) * (1 + 0.1 * step) + 0.2 * step;
        return Tensor.From<double>(v, shape);
    }

    private static void AssertClose(double[] expected, Tensor actual)
        => TestTensors.AssertClose(expected, actual.ToArray<double>(), 1e-12, 1e-12, "running statistic");

    [Fact]
    public void BatchNorm1d_running_stats_match_pytorch_after_three_steps_and_eval_uses_them()
    {
        var bn = new BatchNorm1d(3);
        bn.To(DType.Float64);
        for (int step = 0; step < 3; step++) bn.Call(Batch(step, 4, 3));
        // bn = nn.BatchNorm1d(3).double(); for s in range(3): bn(batch(s, (4, 3)))
        AssertClose([0.09750974306251184, 0.08875816482203547, 0.06554054105617294], bn.RunningMean!);
        AssertClose([0.9306278506118206, 0.9278791386437362, 0.9411912936759363], bn.RunningVar!);
        Assert.Equal(3L, bn.NumBatchesTracked!.Item<long>());
        bn.Eval();
        // bn.eval(); bn(batch(5, (2, 3)))
        TestTensors.AssertClose([1.270006906365012, 2.181884185270039, 2.5077134431818124, 2.077427983104788, 1.1397878511481228, 0.1220709647131206],
            bn.Call(Batch(5, 2, 3)).ToArray<double>(), 1e-10, 1e-10, "eval output");
        Assert.Equal(3L, bn.NumBatchesTracked.Item<long>());
    }

    [Fact]
    public void BatchNorm1d_on_3d_input_with_momentum_none_keeps_a_cumulative_average()
    {
        var bn = new BatchNorm1d(2, momentum: null);
        bn.To(DType.Float64);
        for (int step = 0; step < 3; step++) bn.Call(Batch(step, 3, 2, 4));
        // bn = nn.BatchNorm1d(2, momentum=None).double(); for s in range(3): bn(batch(s, (3, 2, 4)))
        AssertClose([0.5385283395231687, -0.14309948952256002], bn.RunningMean!);
        AssertClose([0.4674722528215578, 0.45394444454835675], bn.RunningVar!);
    }

    [Fact]
    public void BatchNorm2d_running_stats_match_pytorch()
    {
        var bn = new BatchNorm2d(2, momentum: 0.3);
        bn.To(DType.Float64);
        for (int step = 0; step < 2; step++) bn.Call(Batch(step, 2, 2, 3, 3));
        // bn = nn.BatchNorm2d(2, momentum=0.3).double(); for s in range(2): bn(batch(s, (2, 2, 3, 3)))
        AssertClose([0.06056158443225993, 0.06057909846926922], bn.RunningMean!);
        AssertClose([0.7933006304980206, 0.7933114723780011], bn.RunningVar!);
    }

    [Fact]
    public void BatchNorm_without_running_stats_normalizes_with_the_batch_in_eval_too()
    {
        var bn = new BatchNorm1d(3, affine: false, trackRunningStats: false);
        bn.Eval();
        var x = Batch(1, 5, 3);
        TestTensors.AssertClose(TestTensors.Values(F.BatchNorm(x, null, null, training: true)), TestTensors.Values(bn.Call(x)), 1e-12, 1e-12, "batch statistics");
    }

    [Fact]
    public void BatchNorm1d_gradients_match_finite_differences()
    {
        var bn = new BatchNorm1d(3);
        bn.To(DType.Float64);
        using (Engine.NoGrad())
        {
            bn.Weight!.MulInPlace(OpSample.Uniform(1, 0.5, 1.5, 3));
            bn.Bias!.AddInPlace(OpSample.Uniform(2, -1, 1, 3));
        }
        var x = OpSample.Uniform(3, -2, 2, 4, 3, 2);
        x.RequiresGrad = true;
        GradCheck.Check(v => bn.Call(v[0]), [x, bn.Weight!, bn.Bias!]);
        var x2 = OpSample.Uniform(4, -2, 2, 5, 3);
        x2.RequiresGrad = true;
        GradCheck.Check(v => bn.Call(v[0]), [x2, bn.Weight!, bn.Bias!]);
        bn.Eval();
        GradCheck.Check(v => bn.Call(v[0]), [x2, bn.Weight!, bn.Bias!]);
    }

    [Fact]
    public void BatchNorm_rejects_wrong_rank_and_channels_with_the_module_path()
    {
        var model = new Sequential(new BatchNorm2d(4));
        var e = Assert.Throws<KilnShapeException>(() => model.Call(Tensor.Zeros([2, 3, 5, 5])));
        Assert.Equal("model.0 (BatchNorm2d 4): input has 3 channels, expected 4 (input [2, 3, 5, 5])", e.Message);
        Assert.Contains("expected 2-D [N, C] or 3-D [N, C, L] input, got 4-D", Assert.Throws<KilnShapeException>(() => new BatchNorm1d(3).Call(Tensor.Zeros([2, 3, 1, 1]))).Message);
        Assert.Contains("expected more than 1 value per channel", Assert.Throws<KilnShapeException>(() => new BatchNorm1d(3).Call(Tensor.Zeros([1, 3]))).Message);
    }
}
