using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>The scalars of one Adagrad step (PyTorch 1.13, _single_tensor_adagrad).</summary>
/// <param name="ClippedLr">lr / (1 + (step − 1)·lr_decay).</param>
internal readonly record struct AdagradCoefficients(double ClippedLr, double Eps, double WeightDecay, bool Maximize);

/// <summary>
/// One Adagrad step in one pass, in PyTorch's order of operations: g = ±grad (+ wd·p); sum = sum + g·g;
/// p = p + (−clr·g) / (sqrt(sum) + eps). The sum is read and written, and g·g formed, through the
/// subnormal flush.
/// </summary>
internal readonly unsafe struct AdagradRule<T> : IOptimizerRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _param, _grad, _sum;
    private readonly T _negativeClippedLr, _eps, _weightDecay;
    private readonly bool _l2, _maximize;

    internal AdagradRule(T* param, T* grad, T* sum, in AdagradCoefficients c)
    {
        _param = param;
        _grad = grad;
        _sum = sum;
        _negativeClippedLr = T.CreateTruncating(-c.ClippedLr);
        _eps = T.CreateTruncating(c.Eps);
        _weightDecay = T.CreateTruncating(c.WeightDecay);
        _l2 = c.WeightDecay != 0;
        _maximize = c.Maximize;
    }

    // Inlined into the driver's loop: a call per lane costs about as much as the update itself.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update<TLane>(nuint i) where TLane : unmanaged, ILane<TLane, T>
    {
        TLane g = TLane.FlushSubnormal(TLane.Load(_grad + i));
        if (_maximize) g = -g;
        TLane p = TLane.Load(_param + i);
        if (_l2) g = g + TLane.Broadcast(_weightDecay) * p;
        // addcmul_(grad, grad, value=1) is sum + (1·g)·g, which is exactly sum + g·g.
        TLane sum = TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_sum + i)) + TLane.FlushSubnormal(g * g));
        TLane.Store(_sum + i, sum);
        TLane std = TLane.Sqrt(sum) + TLane.Broadcast(_eps);
        TLane.Store(_param + i, p + TLane.Broadcast(_negativeClippedLr) * g / std);
    }
}
