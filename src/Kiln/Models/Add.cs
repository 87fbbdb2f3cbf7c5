namespace Kiln.Models;

/// <summary>The elementwise sum of its inputs (Keras's <c>layers.Add</c>), which must have one shape or broadcast to one.</summary>
public sealed class Add : Merge
{
    /// <summary>x₀ + x₁ + ….</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        var sum = inputs[0];
        for (int i = 1; i < inputs.Count; i++) sum = sum + inputs[i];
        return sum;
    }
}
