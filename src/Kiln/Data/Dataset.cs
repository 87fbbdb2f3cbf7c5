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

    /// <summary>
    /// Splits the items at random into disjoint subsets of the given <paramref name="lengths"/> (which must
    /// add up to <see cref="Count"/>), as PyTorch's <c>random_split</c>: e.g. <c>RandomSplit([50000, 10000], seed: 0)</c>
    /// for training and validation. The same seed gives the same split; without one, the seed is drawn from
    /// Kiln's random stream (<see cref="Engine.ManualSeed"/>).
    /// </summary>
    public Subset<T>[] RandomSplit(IReadOnlyList<int> lengths, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        int count = Count;
        long total = 0;
        foreach (var length in lengths)
        {
            if (length < 0) throw new ArgumentException($"RandomSplit: lengths must not be negative, got [{string.Join(", ", lengths)}]");
            total += length;
        }
        if (total != count)
            throw new ArgumentException($"RandomSplit: lengths [{string.Join(", ", lengths)}] add up to {total}, not to the {count} items");
        var order = new ItemRandom(seed ?? ItemRandom.DrawSeed(), ItemRandom.ShuffleStream, ItemRandom.SplitEpoch).Permutation(count);
        var subsets = new Subset<T>[lengths.Count];
        int start = 0;
        for (int i = 0; i < subsets.Length; i++)
        {
            subsets[i] = new Subset<T>(this, new ArraySegment<int>(order, start, lengths[i]));
            start += lengths[i];
        }
        return subsets;
    }

    /// <summary>Fetches the item at <paramref name="index"/>, already checked to be in range.</summary>
    protected abstract T GetItem(int index);
}
