namespace Kiln.Data;

/// <summary>
/// The items of another dataset at given indices, in that order (PyTorch's <c>Subset</c>); made by
/// <see cref="Dataset{T}.RandomSplit"/> for training and validation splits.
/// </summary>
public sealed class Subset<T> : Dataset<T>
{
    private readonly int[] _indices;

    /// <summary>The items of <paramref name="dataset"/> at <paramref name="indices"/> (each in range; repeats allowed).</summary>
    public Subset(Dataset<T> dataset, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        int count = dataset.Count;
        _indices = indices.ToArray();
        for (int i = 0; i < _indices.Length; i++)
            if ((uint)_indices[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: index {_indices[i]} at position {i} is outside the {count} items of the dataset");
        Dataset = dataset;
    }

    /// <summary>The dataset the items come from.</summary>
    public Dataset<T> Dataset { get; }

    /// <summary>The indices into <see cref="Dataset"/>, in order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public override int Count => _indices.Length;

    /// <inheritdoc/>
    protected override T GetItem(int index) => Dataset[_indices[index]];
}
