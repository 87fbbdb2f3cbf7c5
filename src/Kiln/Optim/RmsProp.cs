using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Optim;

/// <summary>
/// RMSprop (Hinton) with optional momentum, centering, L2 weight decay and maximize: torch.optim.RMSprop
/// (PyTorch 1.13's update, step for step). State per parameter: "step", "square_avg", and "momentum_buffer"
/// with momentum, "grad_avg" when centered.
/// </summary>
public sealed class RmsProp : Optimizer
{
    private static readonly string[] Names = ["square_avg", "momentum_buffer", "grad_avg"];
    private static readonly string[] CoreNames = ["square_avg"];

    /// <summary>An RMSprop optimizer without parameters yet (add them with <see cref="Optimizer.AddParamGroup(ParamGroup)"/>).</summary>
    public RmsProp(double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base([new("lr", lr), new("alpha", alpha), new("eps", eps), new("weight_decay", weightDecay), new("momentum", momentum),
            new("centered", centered ? 1 : 0), new("maximize", maximize ? 1 : 0)])
    {
    }

    /// <summary>RMSprop over <paramref name="parameters"/>, one group with these hyper-parameters.</summary>
    public RmsProp(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this(lr, alpha, eps, weightDecay, momentum, centered, maximize) => AddInitial(parameters);

    /// <summary>RMSprop over <paramref name="paramGroups"/>; options a group does not set take these defaults.</summary>
    public RmsProp(IEnumerable<ParamGroup> paramGroups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this(lr, alpha, eps, weightDecay, momentum, centered, maximize) => AddInitial(paramGroups);

    internal override IReadOnlyList<string> StateNames => Names;

    internal override IReadOnlyList<string> CoreStateNames => CoreNames;

    internal override bool UsesStep => true;

    private protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double momentum = group.Momentum;
        bool centered = group.Centered;
        state.Step++;
        var squareAvg = state.Buffer("square_avg", param);
        var gradAvg = centered ? state.Buffer("grad_avg", param) : null;
        var buffer = momentum > 0 ? state.Buffer("momentum_buffer", param) : null;
        var c = new RmsPropCoefficients(group.Lr, group.Alpha, group.Eps, group.WeightDecay, momentum, centered, group.Maximize);
        if (param.DType == DType.Float32) Run<float>(param, grad, squareAvg, gradAvg, buffer, c);
        else Run<double>(param, grad, squareAvg, gradAvg, buffer, c);
    }

    private static unsafe void Run<T>(Tensor param, Tensor grad, Tensor squareAvg, Tensor? gradAvg, Tensor? buffer, in RmsPropCoefficients c)
        where T : unmanaged, IFloatingPointIeee754<T>
        => OptimizerUpdateLoop.Run<T, RmsPropRule<T>>(
            new RmsPropRule<T>(param.Pointer<T>(), grad.Pointer<T>(), squareAvg.Pointer<T>(),
                gradAvg is null ? null : gradAvg.Pointer<T>(), buffer is null ? null : buffer.Pointer<T>(), c), param.NumElements);
}
