using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The scalars of one Adam or AdamW step, computed in float64 as torch.optim does (PyTorch 1.13,
/// _single_tensor_adam / _single_tensor_adamw).
/// </summary>
/// <param name="WeightDecay">Adam's L2 term added to the gradient (0: none).</param>
/// <param name="ParamScale">AdamW's decoupled decay 1 − lr·weight_decay, applied to the parameter first (null: Adam).</param>
/// <param name="NegativeStepSize">−lr / (1 − beta1^step).</param>
/// <param name="BiasCorrection2Sqrt">sqrt(1 − beta2^step).</param>
internal readonly record struct AdamCoefficients(
    double Beta1, double Beta2, double Eps, double WeightDecay, double? ParamScale,
    double NegativeStepSize, double BiasCorrection2Sqrt, bool Amsgrad, bool Maximize);

/// <summary>
/// One Adam/AdamW step in one pass, in PyTorch's order of operations and roundings:
/// g = ±grad (+ wd·p); m = m·β1 + (1−β1)·g; v = v·β2 + ((1−β2)·g)·g; v̂ = max(v̂, v) with amsgrad;
/// p = p + (−step_size·m) / (sqrt(v or v̂) / sqrt(1−β2^t) + eps). AdamW first scales p by 1 − lr·wd.
/// The gradient and state are read through the subnormal flush, and m, v, v̂ and the squared-gradient
/// term are written through it, so the state is always 0 or normal.
/// </summary>
internal readonly unsafe struct AdamRule<T> : IOptimizerRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _param, _grad, _expAvg, _expAvgSq, _maxExpAvgSq;
    private readonly T _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _eps, _weightDecay, _paramScale, _negativeStepSize, _biasCorrection2Sqrt;
    private readonly bool _l2, _decoupled, _amsgrad, _maximize;

    /// <summary><paramref name="maxExpAvgSq"/> is read only with amsgrad.</summary>
    internal AdamRule(T* param, T* grad, T* expAvg, T* expAvgSq, T* maxExpAvgSq, in AdamCoefficients c)
    {
        _param = param;
        _grad = grad;
        _expAvg = expAvg;
        _expAvgSq = expAvgSq;
        _maxExpAvgSq = maxExpAvgSq;
        _beta1 = T.CreateTruncating(c.Beta1);
        _oneMinusBeta1 = T.CreateTruncating(1 - c.Beta1);
        _beta2 = T.CreateTruncating(c.Beta2);
        _oneMinusBeta2 = T.CreateTruncating(1 - c.Beta2);
        _eps = T.CreateTruncating(c.Eps);
        _weightDecay = T.CreateTruncating(c.WeightDecay);
        _paramScale = T.CreateTruncating(c.ParamScale ?? 1);
        _negativeStepSize = T.CreateTruncating(c.NegativeStepSize);
        _biasCorrection2Sqrt = T.CreateTruncating(c.BiasCorrection2Sqrt);
        _l2 = c.ParamScale is null && c.WeightDecay != 0;
        _decoupled = c.ParamScale is not null;
        _amsgrad = c.Amsgrad;
        _maximize = c.Maximize;
    }

    // Inlined into the driver's loop: a call per lane costs about as much as the update itself.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update<TLane>(nuint i) where TLane : unmanaged, ILane<TLane, T>
    {
        TLane g = TLane.FlushSubnormal(TLane.Load(_grad + i));
        if (_maximize) g = -g;
        TLane p = TLane.Load(_param + i);
        if (_decoupled) p = p * TLane.Broadcast(_paramScale);
        else if (_l2) g = g + TLane.Broadcast(_weightDecay) * p;

        TLane m = TLane.FlushSubnormal(TLane.Load(_expAvg + i)) * TLane.Broadcast(_beta1) + TLane.Broadcast(_oneMinusBeta1) * g;
        m = TLane.FlushSubnormal(m);
        TLane.Store(_expAvg + i, m);

        TLane square = TLane.FlushSubnormal(TLane.Broadcast(_oneMinusBeta2) * g * g);
        TLane v = TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_expAvgSq + i)) * TLane.Broadcast(_beta2) + square);
        TLane.Store(_expAvgSq + i, v);
        if (_amsgrad)
        {
            v = TLane.Max(TLane.FlushSubnormal(TLane.Load(_maxExpAvgSq + i)), v);
            TLane.Store(_maxExpAvgSq + i, v);
        }

        TLane denominator = TLane.Sqrt(v) / TLane.Broadcast(_biasCorrection2Sqrt) + TLane.Broadcast(_eps);
        TLane.Store(_param + i, p + TLane.Broadcast(_negativeStepSize) * m / denominator);
    }
}
