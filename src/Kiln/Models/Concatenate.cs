namespace Kiln.Models;

/// <summary>
/// Joins its inputs along one dimension (Keras's <c>layers.Concatenate</c>); every other dimension
/// must match. The default axis, -1, is the last one, as in Keras.
/// </summary>
public sealed class Concatenate : Merge
{
    /// <summary>Joins inputs along <paramref name="axis"/> (negative counts from the end; 0, the batch, is refused).</summary>
    public Concatenate(int axis = -1)
    {
        if (axis == 0) throw new ArgumentOutOfRangeException(nameof(axis), axis, "Concatenate: axis 0 is the batch dimension; join along a feature dimension (1 or -1, ...)");
        Axis = axis;
    }

    /// <summary>The dimension joined along.</summary>
    public int Axis { get; }

    /// <summary>The inputs joined along <see cref="Axis"/>.</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        int rank = inputs[0].Rank;
        for (int i = 1; i < inputs.Count; i++)
            if (inputs[i].Rank != rank)
                throw new KilnShapeException($"inputs must have one rank, got {rank} and {inputs[i].Rank}");
        return Tensor.Cat(inputs, Axis);
    }

    protected override string ExtraRepr() => $"axis={Axis}";
}
