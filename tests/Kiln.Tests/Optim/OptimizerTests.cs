using Kiln.Kernels.Cpu;
using Kiln.Optim;

namespace Kiln.Tests.Optim;

public sealed class OptimizerTests
{
    private static Tensor Parameter(params double[] values)
    {
        var p = Tensor.From<double>(values).DetachFromScope();
        p.RequiresGrad = true;
        return p;
    }

    [Fact]
    public void Optimizer_made_without_parameters_steps_once_they_are_added()
    {
        // The Keras-style path: the optimizer exists before the model's parameters reach it.
        using var sgd = new Sgd(lr: 0.5);
        var p = Parameter(1, 2, 3);
        sgd.AddParamGroup([p]);
        p.Grad = Tensor.From<double>([1, 1, 2]);
        sgd.Step();
        Assert.Equal([0.5, 1.5, 2.0], p.ToArray<double>());
        Assert.Equal(0.5, sgd.ParamGroups[0].Lr);
    }

    [Fact]
    public void Added_group_takes_defaults_for_the_options_it_does_not_set()
    {
        using var adam = new Adam(lr: 0.01, beta2: 0.9);
        var group = new ParamGroup([Parameter(1)]) { Lr = 0.5, WeightDecay = 0.1 };
        adam.AddParamGroup(group);
        Assert.Equal(0.5, group.Lr);
        Assert.Equal(0.9, group.Beta1);
        Assert.Equal(0.9, group.Beta2);
        Assert.Equal(1e-8, group.Eps);
        Assert.Equal(0.1, group.WeightDecay);
        Assert.False(group.Amsgrad);
        Assert.Equal(["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize"], group.Options.Select(o => o.Key));
        Assert.Equal(0.01, adam.Defaults["lr"]);
    }

    [Fact]
    public void Zero_grad_disposes_and_clears_gradients_or_zeroes_them_in_place()
    {
        var p = Parameter(1, 2);
        var q = Parameter(3);
        using var sgd = new Sgd([p, q], lr: 0.1);
        var g = Tensor.From<double>([5, 6]).DetachFromScope();
        p.Grad = g;
        sgd.ZeroGrad();
        Assert.Null(p.Grad);
        Assert.True(g.IsDisposed);

        p.Grad = Tensor.From<double>([5, 6]).DetachFromScope();
        var kept = p.Grad;
        sgd.ZeroGrad(setToNone: false);
        Assert.Same(kept, p.Grad);
        Assert.Equal([0.0, 0.0], p.Grad.ToArray<double>());
    }

    [Fact]
    public void Step_updates_parameters_in_place_and_bumps_their_version()
    {
        var p = Parameter(1, 2);
        using var sgd = new Sgd([p], lr: 1);
        p.Grad = Tensor.From<double>([0.5, 0.25]);
        int version = p.Version;
        sgd.Step();
        Assert.True(p.Version > version);
        Assert.Equal([0.5, 1.75], p.ToArray<double>());
    }

    [Fact]
    public void Non_contiguous_gradient_gives_the_same_step_as_its_contiguous_copy()
    {
        var values = Enumerable.Range(0, 12).Select(i => 0.1 * i - 0.5).ToArray();
        var a = Tensor.From<double>(values, 4, 3).DetachFromScope();
        var b = Tensor.From<double>(values, 4, 3).DetachFromScope();
        var grad = Tensor.From<double>(values.Select(v => v * v + 0.1).ToArray(), 3, 4);
        a.Grad = grad.Transpose(0, 1);
        b.Grad = a.Grad.Contiguous();
        Assert.False(a.Grad.IsContiguous);
        using var adamA = new Adam([a], lr: 0.1);
        using var adamB = new Adam([b], lr: 0.1);
        for (int i = 0; i < 3; i++)
        {
            adamA.Step();
            adamB.Step();
        }
        Assert.Equal(b.ToArray<double>(), a.ToArray<double>());
    }

    [Fact]
    public void Large_parameter_step_is_independent_of_the_split_over_threads()
    {
        // Big enough for the shared pool to split it (when it has several threads); the result must equal a
        // one-thread run of the same kernel over the same data.
        int n = 5 * OptimizerUpdateLoop.GrainBlocks * OptimizerUpdateLoop.BlockElements + 3;
        var values = Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.001)).ToArray();
        var gradValues = Enumerable.Range(0, n).Select(i => Math.Cos(i * 0.003)).ToArray();
        var p = Tensor.From<double>(values).DetachFromScope();
        p.Grad = Tensor.From<double>(gradValues).DetachFromScope();
        using var adam = new Adam([p], lr: 0.01, amsgrad: true);
        adam.Step();

        var expected = (double[])values.Clone();
        double[] m = new double[n], v = new double[n], vMax = new double[n];
        var c = new AdamCoefficients(0.9, 0.999, 1e-8, 0, null, -(0.01 / (1 - 0.9)), Math.Sqrt(1 - 0.999), true, false);
        using var one = new WorkerPool(1);
        unsafe
        {
            fixed (double* pp = expected, pg = gradValues, pm = m, pv = v, px = vMax)
                OptimizerUpdateLoop.Run<double, AdamRule<double>>(new AdamRule<double>(pp, pg, pm, pv, px, c), n, one);
        }
        Assert.Equal(expected, p.ToArray<double>());
        Assert.Equal(m, adam.StateFor(p)!.Buffers["exp_avg"].ToArray<double>());
    }

    public static TheoryData<string> StatefulOptimizers() => ["Adam", "AdamW", "Sgd", "RmsProp"];

    [Theory]
    [MemberData(nameof(StatefulOptimizers))]
    public void State_fed_zero_gradients_for_thousands_of_steps_stays_zero_or_normal(string kind)
    {
        // Like always-zero pixels: some gradients are 0 from the start, others small for a few steps and then
        // 0 for good, so the state decays through the float32 subnormal range.
        const int n = 37;
        var p = Tensor.Zeros([n]).DetachFromScope();
        p.RequiresGrad = true;
        using Optimizer optimizer = kind switch
        {
            "Adam" => new Adam([p], lr: 1e-3, beta2: 0.99),
            "AdamW" => new AdamW([p], lr: 1e-3, beta2: 0.99, amsgrad: true),
            "Sgd" => new Sgd([p], lr: 1e-3, momentum: 0.9),
            _ => new RmsProp([p], lr: 1e-3, momentum: 0.5, centered: true),
        };
        var small = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 0f : (i % 2 == 0 ? 1e-10f : -3e-12f) * (1 + i)).ToArray();
        var zero = new float[n];
        bool sawNonZero = false;
        for (int step = 0; step < 8000; step++)
        {
            var old = p.Grad;
            p.Grad = Tensor.From<float>(step < 5 ? small : zero).DetachFromScope();
            old?.Dispose();
            optimizer.Step();
            foreach (var (name, buffer) in optimizer.StateFor(p)!.Buffers)
            {
                foreach (float x in buffer.ToArray<float>())
                {
                    if (x != 0 && Math.Abs(x) < SubnormalFlush.SmallestNormalSingle)
                        Assert.Fail($"{kind} {name} holds the subnormal {x:R} after step {step + 1}");
                    sawNonZero |= x != 0;
                }
            }
        }
        Assert.True(sawNonZero);
        foreach (var (name, buffer) in optimizer.StateFor(p)!.Buffers)
            if (name != "max_exp_avg_sq") Assert.True(buffer.ToArray<float>().All(x => x == 0), $"{kind} {name}: {string.Join(", ", buffer.ToArray<float>())}");
    }

    [Fact]
    public void Disposed_optimizer_frees_its_state_and_refuses_further_use()
    {
        var p = Parameter(1, 2);
        var adam = new Adam([p]);
        p.Grad = Tensor.From<double>([1, 1]);
        adam.Step();
        var expAvg = adam.StateFor(p)!.Buffers["exp_avg"];
        adam.Dispose();
        Assert.True(expAvg.IsDisposed);
        Assert.Throws<ObjectDisposedException>(adam.Step);
    }
}
