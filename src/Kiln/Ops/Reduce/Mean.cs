using Kiln.Ops;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>Mean of all elements (a 0-d tensor); NaN for an empty tensor.</summary>
    public Tensor Mean() => MeanOver(ReduceAttributes.All(false));

    /// <summary>Mean over <paramref name="dims"/>; with <paramref name="keepDim"/> they stay as size 1.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false) => MeanOver(ReduceAttributes.Create(dims, Rank, keepDim));

    /// <summary>Mean over one dimension (negative counts from the end).</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    // A composite: Sum, then one multiplication by 1 / count.
    private Tensor MeanOver(ReduceAttributes a)
    {
        a.Validate("Mean", this);
        if (!DType.IsFloatingPoint())
            throw new KilnShapeException($"Mean: expects a floating-point tensor, got {DType.Name()} (inputs: {TensorSpec.Of(this)})");
        return Dispatcher.Call(SumOp.Instance, a, this) * (1.0 / a.Count(Shape));
    }
}
