namespace Kiln.Ops;

/// <summary>
/// Pieces the reductions' backward functions share, written with tensor ops so the gradients are
/// differentiable again. Masks (which positions hold the maximum, which are zero) are constants for
/// autograd: they are made without gradient tracking, and the cast to bool that makes them cuts the graph.
/// </summary>
internal static class ReduceBackward
{
    /// <summary>a - b.</summary>
    internal static Tensor Minus(Tensor a, Tensor b) => a + b * -1.0;

    /// <summary>1 - t.</summary>
    internal static Tensor OneMinus(Tensor t) => t * -1.0 + 1.0;

    /// <summary>1 where t is not zero (NaN counts as not zero), 0 where it is, in t's dtype.</summary>
    internal static Tensor NotZero(Tensor t)
    {
        using (Engine.NoGrad()) return t.To(DType.Bool).To(t.DType);
    }

    /// <summary>1 where a == b (broadcast), 0 elsewhere: a - b is exactly 0 only for equal floats.</summary>
    internal static Tensor EqualMask(Tensor a, Tensor b)
    {
        using (Engine.NoGrad()) return OneMinus(NotZero(Minus(a, b)));
    }

    /// <summary>
    /// The gradient of Max and Min (values): the output's gradient goes to the input positions that
    /// equal the result, split equally among ties, as PyTorch's amax/amin do.
    /// </summary>
    internal static Tensor ToExtremes(BackwardContext c, ReduceAttributes a)
    {
        var x = c.Input(0);
        var hit = EqualMask(x, a.KeepDims(c.Output, x.Shape));
        Tensor share;
        using (Engine.NoGrad()) share = Dispatcher.Call(SumOp.Instance, a.Kept, hit).Reciprocal();
        return hit * (a.KeepDims(c.Grad, x.Shape) * share);
    }
}
