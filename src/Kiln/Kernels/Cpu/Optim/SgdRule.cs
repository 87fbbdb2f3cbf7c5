using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>The scalars of one SGD step (PyTorch 1.13, _single_tensor_sgd).</summary>
/// <param name="InitializeBuffer">The parameter's first step with momentum: the buffer starts as the gradient.</param>
internal readonly record struct SgdCoefficients(
    double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize, bool InitializeBuffer);

/// <summary>
/// One SGD step in one pass, in PyTorch's order of operations: d = ±grad (+ wd·p); with momentum
/// buf = d on the first step, else buf·μ + (1 − dampening)·d, and d = d + μ·buf (Nesterov) or buf;
/// p = p + (−lr)·d. The gradient and buffer are read, and the buffer written, through the subnormal flush.
/// </summary>
internal readonly unsafe struct SgdRule<T> : IOptimizerRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _param, _grad, _buffer;
    private readonly T _negativeLr, _momentum, _oneMinusDampening, _weightDecay;
    private readonly bool _hasMomentum, _initialize, _nesterov, _l2, _maximize;

    /// <summary><paramref name="buffer"/> is used only when the momentum is not 0.</summary>
    internal SgdRule(T* param, T* grad, T* buffer, in SgdCoefficients c)
    {
        _param = param;
        _grad = grad;
        _buffer = buffer;
        _negativeLr = T.CreateTruncating(-c.Lr);
        _momentum = T.CreateTruncating(c.Momentum);
        _oneMinusDampening = T.CreateTruncating(1 - c.Dampening);
        _weightDecay = T.CreateTruncating(c.WeightDecay);
        _hasMomentum = c.Momentum != 0;
        _initialize = c.InitializeBuffer;
        _nesterov = c.Nesterov;
        _l2 = c.WeightDecay != 0;
        _maximize = c.Maximize;
    }

    // Inlined into the driver's loop: a call per lane costs about as much as the update itself.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update<TLane>(nuint i) where TLane : unmanaged, ILane<TLane, T>
    {
        TLane d = TLane.FlushSubnormal(TLane.Load(_grad + i));
        if (_maximize) d = -d;
        TLane p = TLane.Load(_param + i);
        if (_l2) d = d + TLane.Broadcast(_weightDecay) * p;
        if (_hasMomentum)
        {
            TLane buffer = _initialize
                ? TLane.FlushSubnormal(d)
                : TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_buffer + i)) * TLane.Broadcast(_momentum) + TLane.Broadcast(_oneMinusDampening) * d);
            TLane.Store(_buffer + i, buffer);
            d = _nesterov ? d + TLane.Broadcast(_momentum) * buffer : buffer;
        }
        TLane.Store(_param + i, p + TLane.Broadcast(_negativeLr) * d);
    }
}
