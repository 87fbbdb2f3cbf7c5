namespace Kiln.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter): each step first scales the parameter by
/// 1 − lr·weight_decay, then takes an Adam step without L2; torch.optim.AdamW (PyTorch 1.13's update, step
/// for step; weight decay 0.01 by default). State per parameter as <see cref="Adam"/>.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>An AdamW optimizer without parameters yet (add them with <see cref="Optimizer.AddParamGroup(ParamGroup)"/>).</summary>
    public AdamW(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(Adam.DefaultOptions(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize))
    {
    }

    /// <summary>AdamW over <paramref name="parameters"/>, one group with these hyper-parameters.</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) => AddInitial(parameters);

    /// <summary>AdamW over <paramref name="paramGroups"/>; options a group does not set take these defaults.</summary>
    public AdamW(IEnumerable<ParamGroup> paramGroups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this(lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) => AddInitial(paramGroups);

    internal override IReadOnlyList<string> StateNames => Adam.Names;

    internal override IReadOnlyList<string> CoreStateNames => Adam.CoreNames;

    internal override bool UsesStep => true;

    private protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
        => Adam.Step(group, param, grad, state, decoupled: true);
}
