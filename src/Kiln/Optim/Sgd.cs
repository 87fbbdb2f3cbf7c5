using System.Numerics;
using Kiln.Kernels.Cpu;

namespace Kiln.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, L2 weight decay and
/// maximize: torch.optim.SGD (PyTorch 1.13's update, step for step). State per parameter:
/// "momentum_buffer" once it has stepped with momentum.
/// </summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] Names = ["momentum_buffer"];

    /// <summary>An SGD optimizer without parameters yet (add them with <see cref="Optimizer.AddParamGroup(ParamGroup)"/>).</summary>
    public Sgd(double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base([new("lr", lr), new("momentum", momentum), new("dampening", dampening), new("weight_decay", weightDecay),
            new("nesterov", nesterov ? 1 : 0), new("maximize", maximize ? 1 : 0)])
    {
    }

    /// <summary>SGD over <paramref name="parameters"/>, one group with these hyper-parameters.</summary>
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this(lr, momentum, dampening, weightDecay, nesterov, maximize) => AddInitial(parameters);

    /// <summary>SGD over <paramref name="paramGroups"/>; options a group does not set take these defaults.</summary>
    public Sgd(IEnumerable<ParamGroup> paramGroups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this(lr, momentum, dampening, weightDecay, nesterov, maximize) => AddInitial(paramGroups);

    internal override IReadOnlyList<string> StateNames => Names;

    internal override IReadOnlyList<string> CoreStateNames => [];

    internal override bool UsesStep => false;

    internal override string? GroupProblem(ParamGroup group)
        => group.Nesterov && (group.Momentum <= 0 || group.Dampening != 0)
            ? $"Nesterov momentum requires a momentum and zero dampening (momentum {group.Momentum}, dampening {group.Dampening})"
            : null;

    private protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double momentum = group.Momentum;
        Tensor? buffer = null;
        bool initialize = false;
        if (momentum != 0) buffer = state.Buffer("momentum_buffer", param, fill: null, out initialize);
        var c = new SgdCoefficients(group.Lr, momentum, group.Dampening, group.WeightDecay, group.Nesterov, group.Maximize, initialize);
        if (param.DType == DType.Float32) Run<float>(param, grad, buffer, c);
        else Run<double>(param, grad, buffer, c);
    }

    private static unsafe void Run<T>(Tensor param, Tensor grad, Tensor? buffer, in SgdCoefficients c) where T : unmanaged, IFloatingPointIeee754<T>
        => OptimizerUpdateLoop.Run<T, SgdRule<T>>(
            new SgdRule<T>(param.Pointer<T>(), grad.Pointer<T>(), buffer is null ? null : buffer.Pointer<T>(), c), param.NumElements);
}
