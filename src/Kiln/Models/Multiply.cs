namespace Kiln.Models;

/// <summary>The elementwise product of its inputs (Keras's <c>layers.Multiply</c>), which must have one shape or broadcast to one.</summary>
public sealed class Multiply : Merge
{
    /// <summary>x₀ · x₁ · ….</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        var product = inputs[0];
        for (int i = 1; i < inputs.Count; i++) product = product * inputs[i];
        return product;
    }
}
