using Kiln.Optim;

namespace Kiln.Tests.Optim;

/// <summary>Bad parameters, options, gradients and state dicts give clear errors, and leave the optimizer as it was.</summary>
public sealed class OptimizerErrorTests
{
    private static Tensor Parameter(params int[] shape)
    {
        var p = Tensor.Ones(shape, DType.Float64).DetachFromScope();
        p.RequiresGrad = true;
        return p;
    }

    [Fact]
    public void Step_without_parameters_says_where_they_come_from()
    {
        using var adam = new Adam(lr: 1e-3);
        var e = Assert.Throws<KilnException>(adam.Step);
        Assert.Contains("Adam.Step(): the optimizer has no parameters", e.Message);
        Assert.Contains("AddParamGroup", e.Message);
    }

    [Fact]
    public void Empty_parameter_list_is_refused_as_in_pytorch()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sgd(Array.Empty<Tensor>(), lr: 0.1));
        Assert.Contains("Sgd got an empty parameter list", e.Message);
        Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<ParamGroup>()));
    }

    [Fact]
    public void Parameters_that_cannot_be_optimized_are_refused()
    {
        var leaf = Parameter(2, 3);
        var nonLeaf = leaf * 2;
        Assert.Contains("can't optimize a non-leaf tensor", Assert.Throws<ArgumentException>(() => new Adam([nonLeaf])).Message);
        Assert.Contains("float32 and float64", Assert.Throws<ArgumentException>(() => new Adam([Tensor.Zeros([2], DType.Int64)])).Message);
        var strided = Tensor.Zeros([3, 4]).Transpose(0, 1);
        Assert.Contains("non-contiguous view (strides [1, 4])", Assert.Throws<ArgumentException>(() => new Adam([strided])).Message);
        Assert.Contains("more than one parameter group", Assert.Throws<ArgumentException>(() => new Adam([leaf, leaf])).Message);
        using var sgd = new Sgd([leaf], lr: 0.1);
        Assert.Contains("more than one parameter group", Assert.Throws<ArgumentException>(() => sgd.AddParamGroup([leaf])).Message);
        Assert.Single(sgd.ParamGroups);
    }

    [Fact]
    public void Options_of_another_optimizer_and_invalid_values_are_refused()
    {
        using var sgd = new Sgd([Parameter(2)], lr: 0.1);
        var e = Assert.Throws<ArgumentException>(() => sgd.AddParamGroup(new ParamGroup([Parameter(2)]) { Beta1 = 0.8 }));
        Assert.Contains("Sgd does not use 'beta1'; its hyper-parameters are lr, momentum, dampening, weight_decay, nesterov, maximize", e.Message);
        Assert.Throws<KilnException>(() => sgd.ParamGroups[0].Beta1 = 0.5);
        Assert.Contains("this Sgd parameter group has no 'beta1'", Assert.Throws<KilnException>(() => sgd.ParamGroups[0].Beta1).Message);

        Assert.Contains("invalid 'lr' -1: expected a finite value >= 0", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(lr: -1)).Message);
        Assert.Contains("invalid 'beta1' 1: expected a value in [0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(eps: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.ParamGroups[0].Lr = double.PositiveInfinity);
        Assert.Contains("Nesterov momentum requires a momentum and zero dampening", Assert.Throws<ArgumentException>(() => new Sgd(lr: 0.1, nesterov: true)).Message);

        using var nesterov = new Sgd([Parameter(2)], lr: 0.1, momentum: 0.9, nesterov: true);
        nesterov.ParamGroups[0].Momentum = 0;
        nesterov.ParamGroups[0].Params[0].Grad = Tensor.Ones([2], DType.Float64);
        Assert.Contains("parameter group 0: Nesterov momentum requires", Assert.Throws<KilnException>(nesterov.Step).Message);
    }

    [Fact]
    public void Gradients_of_the_wrong_shape_or_dtype_are_refused_at_step()
    {
        var p = Parameter(2, 3);
        using var adam = new Adam([Parameter(4), p]);
        p.Grad = Tensor.Ones([3, 2], DType.Float64);
        var e = Assert.Throws<KilnException>(adam.Step);
        Assert.Contains("the gradient of parameter 1 ([2, 3] float64) has shape [3, 2]", e.Message);
        p.Grad = Tensor.Ones([2, 3], DType.Float32);
        Assert.Contains("is float32; expected the parameter's dtype", Assert.Throws<KilnException>(adam.Step).Message);
        Assert.Null(adam.StateFor(p));
    }

    private static (Adam Adam, Tensor[] Params) SteppedAdam(params int[][] shapes)
    {
        var ps = shapes.Select(s => Parameter(s)).ToArray();
        var adam = new Adam(ps);
        foreach (var p in ps) p.Grad = Tensor.OnesLike(p);
        adam.Step();
        return (adam, ps);
    }

    [Fact]
    public void Loading_a_state_dict_that_does_not_fit_names_the_mismatch_and_changes_nothing()
    {
        var (source, _) = SteppedAdam([2, 3], [4]);
        using var _1 = source;
        using var saved = source.StateDict();

        using var sgd = new Sgd([Parameter(2, 3), Parameter(4)], lr: 0.1);
        Assert.Contains("the state dict was written by Adam, not Sgd", Assert.Throws<KilnException>(() => sgd.LoadStateDict(saved)).Message);

        var (fewer, _) = SteppedAdam([2, 3]);
        using var _2 = fewer;
        Assert.Contains("parameter group 0 of the state dict has 2 parameters, but the optimizer's has 1", Assert.Throws<KilnException>(() => fewer.LoadStateDict(saved)).Message);

        using var twoGroups = new Adam([new ParamGroup([Parameter(2, 3)]), new ParamGroup([Parameter(4)])]);
        Assert.Contains("the state dict has 1 parameter groups, but the optimizer has 2", Assert.Throws<KilnException>(() => twoGroups.LoadStateDict(saved)).Message);

        var (other, ps) = SteppedAdam([3, 2], [4]);
        using var _3 = other;
        var before = other.StateFor(ps[0])!.Buffers["exp_avg"];
        var e = Assert.Throws<KilnException>(() => other.LoadStateDict(saved));
        Assert.Contains("state of parameter 0 ([3, 2] float64): 'exp_avg' has shape [2, 3], but the parameter has shape [3, 2]", e.Message);
        Assert.Same(before, other.StateFor(ps[0])!.Buffers["exp_avg"]);
        Assert.False(before.IsDisposed);
    }

    private static OptimizerStateDict Edited(OptimizerStateDict saved, Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
    {
        var tensors = saved.FlatTensors().ToDictionary();
        var metadata = saved.FlatMetadata().ToDictionary();
        edit(tensors, metadata);
        return OptimizerStateDict.FromFlat(tensors, metadata);
    }

    [Fact]
    public void Loading_refuses_unknown_partial_or_malformed_state()
    {
        var (source, _) = SteppedAdam([2, 3]);
        using var _1 = source;
        using var saved = source.StateDict();
        var (target, _) = SteppedAdam([2, 3]);
        using var _2 = target;

        string Error(Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
            => Assert.Throws<KilnException>(() => target.LoadStateDict(Edited(saved, edit))).Message;

        Assert.Contains("state of parameter 0 ([2, 3] float64) has 'momentum_buffer'; Adam keeps step, exp_avg, exp_avg_sq, max_exp_avg_sq",
            Error((t, _) => t["state.0.momentum_buffer"] = Tensor.Zeros([2, 3])));
        Assert.Contains("has step, exp_avg but not exp_avg_sq; they are saved together", Error((t, _) => t.Remove("state.0.exp_avg_sq")));
        Assert.Contains("'step' is 1.5; expected a whole number >= 0", Error((t, _) => t["state.0.step"] = Tensor.Scalar(1.5)));
        Assert.Contains("the state dict has state for parameter 3, which none of its groups lists", Error((t, _) => t["state.3.exp_avg"] = Tensor.Zeros([2, 3])));
        Assert.Contains("parameter group 0 of the state dict sets 'momentum', which Adam does not use", Error((_, m) => m["param_groups.0.momentum"] = "0.9"));
        Assert.Contains("invalid 'eps' -1", Error((_, m) => m["param_groups.0.eps"] = "-1"));
        Assert.Contains("'exp_avg' is int64", Error((t, _) => t["state.0.exp_avg"] = Tensor.Zeros([2, 3], DType.Int64)));
    }

    [Fact]
    public void Malformed_flat_state_is_a_format_error()
    {
        var (source, _) = SteppedAdam([2]);
        using var _1 = source;
        using var saved = source.StateDict();
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m.Remove("optimizer")));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m["param_groups"] = "1000000000"));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m["param_groups.0.lr"] = "fast"));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m["param_groups.0.params"] = "0,x"));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m["param_groups.7.lr"] = "0.1"));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (_, m) => m.Remove("param_groups.0.params")));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (t, _) => t["exp_avg"] = Tensor.Zeros([2])));
        Assert.Throws<KilnFormatException>(() => Edited(saved, (t, _) => t["state.x.exp_avg"] = Tensor.Zeros([2])));
    }

    [Fact]
    public void Schedulers_refuse_misuse_clearly()
    {
        using var adagrad = new Adagrad([Parameter(2)]);
        Assert.Contains("Adagrad has no momentum or beta1 to cycle; pass cycleMomentum: false",
            Assert.Throws<ArgumentException>(() => new OneCycleLR(adagrad, maxLr: 0.1, totalSteps: 10)).Message);

        using var sgd = new Sgd([Parameter(2)], lr: 0.1, momentum: 0.9);
        var oneCycle = new OneCycleLR(sgd, maxLr: 0.1, totalSteps: 3);
        for (int i = 0; i < 3; i++) oneCycle.Step();
        Assert.Contains("tried to step 5 times; the specified number of total steps is 3", Assert.Throws<KilnException>(oneCycle.Step).Message);

        using var empty = new Adam();
        Assert.Contains("create the scheduler once it has its parameters", Assert.Throws<ArgumentException>(() => new StepLR(empty, 2)).Message);

        var step = new StepLR(sgd, 2);
        var state = step.StateDict().ToDictionary();
        state.Remove("base_lrs.0");
        Assert.Contains("StepLR.LoadStateDict: the state dict has no 'base_lrs.0'", Assert.Throws<KilnException>(() => step.LoadStateDict(state)).Message);
        var extra = step.StateDict().ToDictionary();
        extra["best"] = 1;
        Assert.Contains("unexpected keys best", Assert.Throws<KilnException>(() => step.LoadStateDict(extra)).Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(sgd, factor: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(sgd, startFactor: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(sgd, tMax: 0));
    }
}
