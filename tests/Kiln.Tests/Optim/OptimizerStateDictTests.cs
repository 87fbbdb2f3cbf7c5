using Kiln.Optim;

namespace Kiln.Tests.Optim;

public sealed class OptimizerStateDictTests
{
    public static TheoryData<string, DType, bool> Cases()
    {
        var data = new TheoryData<string, DType, bool>();
        foreach (var name in OptimizerProblem.Cases)
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                foreach (bool flat in new[] { false, true })
                    data.Add(name, dtype, flat);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fresh_optimizer_loaded_from_a_state_dict_continues_the_identical_trajectory(string name, DType dtype, bool flat)
    {
        using var a = new OptimizerProblem(dtype);
        using var optimizerA = a.Make(name);
        // Five steps: b missed step index 3, so its step count differs from w's.
        for (int step = 0; step < 5; step++)
        {
            a.SetGradients(step);
            optimizerA.Step();
        }

        using var b = new OptimizerProblem(dtype, TestTensors.Values(a.W), TestTensors.Values(a.B));
        using var optimizerB = b.Make(name);
        // Options the state dict must bring back.
        optimizerB.ParamGroups[0].Lr = 1;
        optimizerB.ParamGroups[1].WeightDecay = 0.5;
        using (var saved = optimizerA.StateDict())
        {
            if (flat)
            {
                using var copy = OptimizerStateDict.FromFlat(saved.FlatTensors(), saved.FlatMetadata());
                optimizerB.LoadStateDict(copy);
            }
            else
            {
                optimizerB.LoadStateDict(saved);
            }
        }

        for (int step = 5; step < 10; step++)
        {
            a.SetGradients(step);
            optimizerA.Step();
            b.SetGradients(step);
            optimizerB.Step();
            Assert.Equal(a.Values(), b.Values());
        }
    }

    [Fact]
    public void Adam_state_dict_has_pytorch_layout()
    {
        using var problem = new OptimizerProblem(DType.Float64);
        using var adam = problem.Make("Adam");
        problem.SetGradients(0);
        var g0 = TestTensors.Values(problem.W.Grad!);
        adam.Step();
        problem.SetGradients(1);
        var g1 = TestTensors.Values(problem.W.Grad!);
        adam.Step();

        using var state = adam.StateDict();
        Assert.Equal("Adam", state.Optimizer);
        Assert.Equal(2, state.ParamGroups.Count);
        Assert.Equal([0], state.ParamGroups[0].Params);
        Assert.Equal([1], state.ParamGroups[1].Params);
        Assert.Equal(["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize"], state.ParamGroups[0].Options.Select(o => o.Key));
        Assert.Equal(0.05, state.ParamGroups[1].Options.Single(o => o.Key == "lr").Value);
        Assert.Equal(0.8, state.ParamGroups[1].Options.Single(o => o.Key == "beta1").Value);

        Assert.Equal(["exp_avg", "exp_avg_sq", "step"], state.State[0].Keys.Order());
        var step = state.State[0]["step"];
        Assert.Equal(DType.Float32, step.DType);
        Assert.Equal(0, step.Rank);
        Assert.Equal(2.0, step.Item());
        // m after two steps with beta1 0.9: 0.9·(0.1·g0) + 0.1·g1, formed in PyTorch's order.
        var expAvg = TestTensors.Values(state.State[0]["exp_avg"]);
        for (int i = 0; i < expAvg.Length; i++)
            Assert.Equal((1 - 0.9) * g0[i] * 0.9 + (1 - 0.9) * g1[i], expAvg[i], 15);

        var tensors = state.FlatTensors();
        Assert.Equal(["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.step"], tensors.Keys);
        var metadata = state.FlatMetadata();
        Assert.Equal("Adam", metadata["optimizer"]);
        Assert.Equal("2", metadata["param_groups"]);
        Assert.Equal("1", metadata["param_groups.1.params"]);
        Assert.Equal("0.05", metadata["param_groups.1.lr"]);
        Assert.Equal("0", metadata["param_groups.0.amsgrad"]);
    }

    [Fact]
    public void State_dict_buffers_are_views_of_the_live_state()
    {
        using var problem = new OptimizerProblem(DType.Float32);
        using var sgd = problem.Make("SgdMomentumDampening");
        problem.SetGradients(0);
        sgd.Step();
        var state = sgd.StateDict();
        var buffer = state.State[0]["momentum_buffer"];
        Assert.True(buffer.SharesStorageWith(sgd.StateFor(problem.W)!.Buffers["momentum_buffer"]));
        state.Dispose();
        // Disposing the state dict leaves the optimizer's state alone.
        problem.SetGradients(1);
        sgd.Step();
        Assert.False(sgd.StateFor(problem.W)!.Buffers["momentum_buffer"].IsDisposed);
    }

    [Fact]
    public void Sgd_without_momentum_keeps_no_state_and_parameters_without_gradients_get_none()
    {
        using var problem = new OptimizerProblem(DType.Float64);
        using var sgd = problem.Make("SgdPlain");
        problem.SetGradients(3);
        sgd.Step();
        using var state = sgd.StateDict();
        Assert.Equal([0], state.State.Keys);
        Assert.Empty(state.State[0]);

        using var adam = new Adam([problem.W, problem.B]);
        problem.SetGradients(3);
        var before = TestTensors.Values(problem.B);
        adam.Step();
        Assert.Equal(before, TestTensors.Values(problem.B));
        Assert.Null(adam.StateFor(problem.B));
        Assert.NotNull(adam.StateFor(problem.W));
    }

    [Fact]
    public void Loading_converts_state_to_the_parameter_dtype()
    {
        using var a = new OptimizerProblem(DType.Float64);
        using var adamA = a.Make("Adam");
        a.SetGradients(0);
        adamA.Step();
        using var state = adamA.StateDict();

        using var b = new OptimizerProblem(DType.Float32);
        using var adamB = b.Make("Adam");
        adamB.LoadStateDict(state);
        var expAvg = adamB.StateFor(b.W)!.Buffers["exp_avg"];
        Assert.Equal(DType.Float32, expAvg.DType);
        Assert.Equal(TestTensors.Values(state.State[0]["exp_avg"]).Select(v => (double)(float)v), TestTensors.Values(expAvg));
        Assert.Equal(1, adamB.StateFor(b.W)!.Step);
    }
}
