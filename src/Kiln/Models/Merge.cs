using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// A layer that combines several tensors into one (Keras's merge layers: <see cref="Add"/>,
/// <see cref="Multiply"/>, <see cref="Concatenate"/>). In a functional <see cref="Model"/> it is
/// called on several symbolic tensors (<c>new Add().Call(a, b)</c>); eagerly, on several tensors
/// (<c>new Add().Call(x, y)</c>). It has no parameters. A merge runs through its own
/// <see cref="Call(IReadOnlyList{Tensor})"/>, so forward hooks, which take one input, do not run.
/// </summary>
public abstract class Merge : Module
{
    /// <summary>Merges <paramref name="inputs"/> (two or more); a shape error names this layer's path and the input shapes.</summary>
    public Tensor Call(params IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count < 2) throw InputError($"merges two or more inputs, got {inputs.Count}");
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"{Description}: input {i} is null");
        try
        {
            return Forward(inputs);
        }
        catch (KilnShapeException e)
        {
            var shapes = string.Join(", ", inputs.Select(t => t.Shape.ToString()));
            throw InputError($"cannot merge inputs of shapes {shapes}: {WithoutLocation(e.Message)}");
        }
    }

    /// <summary>The merge of <paramref name="inputs"/> (two or more, checked by <see cref="Call(IReadOnlyList{Tensor})"/>).</summary>
    public abstract Tensor Forward(IReadOnlyList<Tensor> inputs);

    /// <summary>Throws: a merge takes several inputs (call <see cref="Call(IReadOnlyList{Tensor})"/>).</summary>
    public override Tensor Forward(Tensor input)
        => throw InputError("merges two or more inputs; call it with several tensors, as in Call(x, y)");
}
