using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Optim;

/// <summary>
/// Adagrad (Duchi et al.) with learning-rate decay, an initial accumulator value, L2 weight decay and
/// maximize: torch.optim.Adagrad (PyTorch 1.13's update, step for step). State per parameter: "step" and
/// "sum" (started at initial_accumulator_value on the parameter's first step).
/// </summary>
public sealed class Adagrad : Optimizer
{
    private static readonly string[] Names = ["sum"];

    /// <summary>An Adagrad optimizer without parameters yet (add them with <see cref="Optimizer.AddParamGroup(ParamGroup)"/>).</summary>
    public Adagrad(double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base([new("lr", lr), new("lr_decay", lrDecay), new("weight_decay", weightDecay),
            new("initial_accumulator_value", initialAccumulatorValue), new("eps", eps), new("maximize", maximize ? 1 : 0)])
    {
    }

    /// <summary>Adagrad over <paramref name="parameters"/>, one group with these hyper-parameters.</summary>
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) => AddInitial(parameters);

    /// <summary>Adagrad over <paramref name="paramGroups"/>; options a group does not set take these defaults.</summary>
    public Adagrad(IEnumerable<ParamGroup> paramGroups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) => AddInitial(paramGroups);

    internal override IReadOnlyList<string> StateNames => Names;

    internal override IReadOnlyList<string> CoreStateNames => Names;

    internal override bool UsesStep => true;

    private protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        var sum = state.Buffer("sum", param, group.InitialAccumulatorValue);
        double step = ++state.Step;
        var c = new AdagradCoefficients(group.Lr / (1 + (step - 1) * group.LrDecay), group.Eps, group.WeightDecay, group.Maximize);
        if (param.DType == DType.Float32) Run<float>(param, grad, sum, c);
        else Run<double>(param, grad, sum, c);
    }

    private static unsafe void Run<T>(Tensor param, Tensor grad, Tensor sum, in AdagradCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
        => OptimizerUpdateLoop.Run<T, AdagradRule<T>>(
            new AdagradRule<T>(param.Pointer<T>(), grad.Pointer<T>(), sum.Pointer<T>(), c), param.NumElements);
}
