namespace Kiln.Ops;

/// <summary>
/// A draw from the global random stream as a graph node: fills its output with uniform [0, 1) or
/// standard normal values, reserving stream counters exactly as <see cref="Tensor.Rand"/> and
/// <see cref="Tensor.Randn"/> do, so a replayed graph advances the stream as the eager code did and
/// draws the same values. Not a registered primitive (users draw with Rand and Randn, which have no
/// float64 reference to conform to): a compiled training step's trace records it for them, which is
/// how Dropout's mask is drawn afresh at every replayed step.
/// </summary>
internal sealed class RandomFillOp : OpDef<RandomFillOp.Attributes>
{
    /// <param name="Shape">The drawn tensor's shape.</param>
    /// <param name="DType">float32 or float64.</param>
    /// <param name="Normal">Standard normal values (Randn) rather than uniform ones (Rand).</param>
    internal sealed record Attributes(IntList Shape, DType DType, bool Normal) : OpAttributes;

    internal static readonly RandomFillOp Instance = new();

    public override string Name => "RandomFill";

    public override int Arity => 0;

    public override bool IsDifferentiable => false;

    public override bool IsRandom => true;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a) => new(Kiln.Shape.Wrap(a.Shape.ToArray()), a.DType);

    public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
    {
        if (a.Normal) Tensor.FillNormal(output);
        else Tensor.FillUniform(output);
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        => throw new NotSupportedException($"{Name} draws random values: it has no reference to compare against");
}
