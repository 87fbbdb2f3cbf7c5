using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>What shape and dtype inference sees of a tensor: enough to check an op without data.</summary>
internal readonly record struct TensorSpec(Shape Shape, DType DType)
{
    internal static TensorSpec Of(Tensor t) => new(t.Shape, t.DType);
    public override string ToString() => $"{Shape} {DType.Name()}";
}

/// <summary>
/// Room for the specs of an op call's inputs on the stack, so the dispatcher's shape check allocates
/// nothing for ops of up to <see cref="Length"/> inputs (all but variadic ones).
/// </summary>
[InlineArray(Length)]
internal struct TensorSpecBuffer
{
    internal const int Length = 4;
    private TensorSpec _element;
}
