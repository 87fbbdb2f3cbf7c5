using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>The scalars of one RMSprop step (PyTorch 1.13, _single_tensor_rmsprop).</summary>
internal readonly record struct RmsPropCoefficients(
    double Lr, double Alpha, double Eps, double WeightDecay, double Momentum, bool Centered, bool Maximize);

/// <summary>
/// One RMSprop step in one pass, in PyTorch's order of operations: g = ±grad (+ wd·p);
/// sq = sq·α + ((1−α)·g)·g; centered: ga = ga·α + (1−α)·g and avg = sqrt(sq − ga·ga), else sqrt(sq);
/// avg += eps; with momentum buf = buf·μ + g / avg and p = p + (−lr)·buf, else p = p + (−lr·g) / avg.
/// State is read and written, and the squared terms formed, through the subnormal flush.
/// </summary>
internal readonly unsafe struct RmsPropRule<T> : IOptimizerRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _param, _grad, _squareAvg, _gradAvg, _buffer;
    private readonly T _negativeLr, _alpha, _oneMinusAlpha, _eps, _weightDecay, _momentum;
    private readonly bool _l2, _centered, _hasMomentum, _maximize;

    /// <summary><paramref name="gradAvg"/> is used only when centered, <paramref name="buffer"/> only with momentum.</summary>
    internal RmsPropRule(T* param, T* grad, T* squareAvg, T* gradAvg, T* buffer, in RmsPropCoefficients c)
    {
        _param = param;
        _grad = grad;
        _squareAvg = squareAvg;
        _gradAvg = gradAvg;
        _buffer = buffer;
        _negativeLr = T.CreateTruncating(-c.Lr);
        _alpha = T.CreateTruncating(c.Alpha);
        _oneMinusAlpha = T.CreateTruncating(1 - c.Alpha);
        _eps = T.CreateTruncating(c.Eps);
        _weightDecay = T.CreateTruncating(c.WeightDecay);
        _momentum = T.CreateTruncating(c.Momentum);
        _l2 = c.WeightDecay != 0;
        _centered = c.Centered;
        _hasMomentum = c.Momentum > 0;
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

        TLane square = TLane.FlushSubnormal(TLane.Broadcast(_oneMinusAlpha) * g * g);
        TLane sq = TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_squareAvg + i)) * TLane.Broadcast(_alpha) + square);
        TLane.Store(_squareAvg + i, sq);
        TLane avg;
        if (_centered)
        {
            TLane ga = TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_gradAvg + i)) * TLane.Broadcast(_alpha) + TLane.Broadcast(_oneMinusAlpha) * g);
            TLane.Store(_gradAvg + i, ga);
            // PyTorch's addcmul(ga, ga, value=-1) is sq + (−1·ga)·ga, which is exactly sq − ga·ga.
            avg = TLane.Sqrt(sq - TLane.FlushSubnormal(ga * ga));
        }
        else
        {
            avg = TLane.Sqrt(sq);
        }
        avg = avg + TLane.Broadcast(_eps);

        if (_hasMomentum)
        {
            TLane buffer = TLane.FlushSubnormal(TLane.FlushSubnormal(TLane.Load(_buffer + i)) * TLane.Broadcast(_momentum) + g / avg);
            TLane.Store(_buffer + i, buffer);
            TLane.Store(_param + i, p + TLane.Broadcast(_negativeLr) * buffer);
        }
        else
        {
            TLane.Store(_param + i, p + TLane.Broadcast(_negativeLr) * g / avg);
        }
    }
}
