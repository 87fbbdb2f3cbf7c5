using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Optim;

/// <summary>
/// Adam (Kingma and Ba) with optional L2 weight decay, AMSGrad and maximize: torch.optim.Adam (PyTorch 1.13's
/// update, step for step). State per parameter: "step", "exp_avg", "exp_avg_sq" and, with amsgrad,
/// "max_exp_avg_sq".
/// </summary>
public sealed class Adam : Optimizer
{
    internal static readonly string[] Names = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    internal static readonly string[] CoreNames = ["exp_avg", "exp_avg_sq"];

    /// <summary>An Adam optimizer without parameters yet (add them with <see cref="Optimizer.AddParamGroup(ParamGroup)"/>).</summary>
    public Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(DefaultOptions(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize))
    {
    }

    /// <summary>Adam over <paramref name="parameters"/>, one group with these hyper-parameters.</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) => AddInitial(parameters);

    /// <summary>Adam over <paramref name="paramGroups"/>; options a group does not set take these defaults.</summary>
    public Adam(IEnumerable<ParamGroup> paramGroups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) => AddInitial(paramGroups);

    internal static KeyValuePair<string, double>[] DefaultOptions(double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize)
        => [new("lr", lr), new("beta1", beta1), new("beta2", beta2), new("eps", eps), new("weight_decay", weightDecay),
            new("amsgrad", amsgrad ? 1 : 0), new("maximize", maximize ? 1 : 0)];

    internal override IReadOnlyList<string> StateNames => Names;

    internal override IReadOnlyList<string> CoreStateNames => CoreNames;

    internal override bool UsesStep => true;

    private protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
        => Step(group, param, grad, state, decoupled: false);

    /// <summary>One Adam step, or with <paramref name="decoupled"/> one AdamW step (weight decay applied to the parameter).</summary>
    internal static void Step(ParamGroup group, Tensor param, Tensor grad, ParameterState state, bool decoupled)
    {
        double lr = group.Lr, beta1 = group.Beta1, beta2 = group.Beta2, weightDecay = group.WeightDecay;
        bool amsgrad = group.Amsgrad;
        var expAvg = state.Buffer("exp_avg", param);
        var expAvgSq = state.Buffer("exp_avg_sq", param);
        var maxExpAvgSq = amsgrad ? state.Buffer("max_exp_avg_sq", param) : null;
        double step = ++state.Step;
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        var c = new AdamCoefficients(beta1, beta2, group.Eps, weightDecay, decoupled ? 1 - lr * weightDecay : null,
            -(lr / biasCorrection1), Math.Sqrt(biasCorrection2), amsgrad, group.Maximize);
        if (param.DType == DType.Float32) Run<float>(param, grad, expAvg, expAvgSq, maxExpAvgSq, c);
        else Run<double>(param, grad, expAvg, expAvgSq, maxExpAvgSq, c);
    }

    private static unsafe void Run<T>(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, in AdamCoefficients c)
        where T : unmanaged, IFloatingPointIeee754<T>
        => OptimizerUpdateLoop.Run<T, AdamRule<T>>(
            new AdamRule<T>(param.Pointer<T>(), grad.Pointer<T>(), expAvg.Pointer<T>(), expAvgSq.Pointer<T>(),
                maxExpAvgSq is null ? null : maxExpAvgSq.Pointer<T>(), c), param.NumElements);
}
