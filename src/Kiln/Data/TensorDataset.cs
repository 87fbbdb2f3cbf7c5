namespace Kiln.Data;

/// <summary>
/// A dataset over two tensors that share their first dimension (PyTorch's <c>TensorDataset</c>): item i
/// is (<see cref="Inputs"/>[i], <see cref="Targets"/>[i]), each passed through its transform if one is
/// given. The tensors stay the caller's: the dataset neither copies nor disposes them.
/// </summary>
/// <remarks>
/// With no transforms, a <see cref="DataLoader"/> using its default collate gathers each batch with one
/// <see cref="Tensor.IndexSelect"/> per tensor instead of stacking items one by one.
/// </remarks>
public class TensorDataset : Dataset<Example>
{
    /// <summary>
    /// A dataset of the rows of <paramref name="inputs"/> and <paramref name="targets"/> (equal first dimensions),
    /// with an optional <paramref name="transform"/> for each input and <paramref name="targetTransform"/> for each target.
    /// </summary>
    public TensorDataset(Tensor inputs, Tensor targets, Transform? transform = null, Transform? targetTransform = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Rank == 0 || targets.Rank == 0)
            throw new KilnShapeException(
                $"TensorDataset: inputs {inputs.Shape} and targets {targets.Shape} need a first dimension to index items by");
        if (inputs.Size(0) != targets.Size(0))
            throw new KilnShapeException(
                $"TensorDataset: inputs {inputs.Shape} hold {inputs.Size(0)} items but targets {targets.Shape} hold {targets.Size(0)}; the first dimensions must match");
        Inputs = inputs;
        Targets = targets;
        Transform = transform;
        TargetTransform = targetTransform;
    }

    /// <summary>The inputs, one item per index of dimension 0.</summary>
    public Tensor Inputs { get; }

    /// <summary>The targets, one item per index of dimension 0.</summary>
    public Tensor Targets { get; }

    /// <summary>Applied to each input item, or null.</summary>
    public Transform? Transform { get; }

    /// <summary>Applied to each target item, or null.</summary>
    public Transform? TargetTransform { get; }

    /// <inheritdoc/>
    public sealed override int Count => Inputs.Size(0);

    /// <summary>Views of row <paramref name="index"/> of both tensors, transformed.</summary>
    protected sealed override Example GetItem(int index) =>
        new(Transform.ApplyTo(Transform, Inputs.Select(0, index)), Transform.ApplyTo(TargetTransform, Targets.Select(0, index)));
}
