namespace Kiln.Ops;

/// <summary>What shape and dtype inference sees of a tensor: enough to check an op without data.</summary>
internal readonly record struct TensorSpec(Shape Shape, DType DType)
{
    internal static TensorSpec Of(Tensor t) => new(t.Shape, t.DType);
    public override string ToString() => $"{Shape} {DType.Name()}";
}
