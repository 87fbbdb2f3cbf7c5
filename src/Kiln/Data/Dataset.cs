namespace Kiln.Data;

/// <summary>
/// A map-style dataset (PyTorch's <c>torch.utils.data.Dataset</c>): a fixed number of items, each
/// fetched by index. Derive from it and implement <see cref="Count"/> and <see cref="GetItem"/>; give
/// it to a <see cref="DataLoader"/> to iterate over shuffled batches.
/// </summary>
/// <remarks>
/// A <see cref="DataLoader"/> may call <see cref="GetItem"/> from several worker threads at once, so it
/// must be safe to call concurrently (reading shared tensors is). Tensors an item creates are disposed
/// by the loader once the batch is collated; tensors the dataset holds are never touched.
/// </remarks>
public abstract class Dataset<T>
{
    /// <summary>The number of items.</summary>
    public abstract int Count { get; }

    /// <summary>The item at <paramref name="index"/> (0 to <see cref="Count"/> - 1).</summary>
    public T this[int index]
    {
        get
        {
            int count = Count;
            if ((uint)index >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"{GetType().Name}: index {index} is outside the {count} items");
            return GetItem(index);
        }
    }

    /// <summary>Fetches the item at <paramref name="index"/>, already checked to be in range.</summary>
    protected abstract T GetItem(int index);
}
