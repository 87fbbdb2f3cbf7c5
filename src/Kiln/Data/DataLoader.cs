namespace Kiln.Data;

/// <summary>
/// Iterates over a dataset of <see cref="Example"/>s in batches: <c>foreach (var (x, y) in loader)</c>
/// gives the inputs and targets of each batch stacked along a new first dimension. See
/// <see cref="DataLoader{TItem, TBatch}"/> for shuffling, workers, determinism and who owns the batches
/// (the loader: clone a tensor to keep it past the next batch).
/// </summary>
/// <remarks>
/// A <see cref="TensorDataset"/> without transforms, with the default collate, is gathered with one
/// <see cref="Tensor.IndexSelect"/> per tensor per batch instead of stacking items one by one.
/// </remarks>
public sealed class DataLoader : DataLoader<Example, Example>
{
    private readonly TensorDataset? _gathered;

    /// <summary>
    /// A loader of batches of <paramref name="batchSize"/> examples, stacked by <see cref="DefaultCollate"/>
    /// unless <paramref name="collate"/> is given. The other parameters are those of <see cref="DataLoader{TItem, TBatch}"/>.
    /// </summary>
    public DataLoader(Dataset<Example> dataset, int batchSize = 1, bool shuffle = false, ulong? seed = null, bool dropLast = false,
        int numWorkers = 0, int prefetchFactor = 2, Func<IReadOnlyList<Example>, Example>? collate = null)
        : base(dataset, batchSize, collate ?? DefaultCollate, shuffle, seed, dropLast, numWorkers, prefetchFactor)
    {
        if (collate is null && dataset is TensorDataset { Transform: null, TargetTransform: null } tensors) _gathered = tensors;
    }

    /// <summary>Whether batches are gathered with IndexSelect (the fast path) rather than by stacking items.</summary>
    internal bool GathersBatches => _gathered is not null;

    /// <summary>
    /// PyTorch's default collate for (input, target) items: stacks the inputs, and the targets, along a new
    /// first dimension. All inputs must share one shape, and all targets another.
    /// </summary>
    public static Example DefaultCollate(IReadOnlyList<Example> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var inputs = new Tensor[items.Count];
        var targets = new Tensor[items.Count];
        for (int i = 0; i < items.Count; i++) (inputs[i], targets[i]) = items[i];
        var input = Tensor.Stack(inputs);
        try
        {
            return new Example(input, Tensor.Stack(targets));
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private protected override Example Build(int[] indices, ulong seed, int epoch, int batch, StopSignal? stop)
    {
        if (_gathered is null) return base.Build(indices, seed, epoch, batch, stop);
        var positions = new long[indices.Length];
        for (int j = 0; j < indices.Length; j++) positions[j] = indices[j];
        using var index = Tensor.From<long>(positions);
        return new Example(_gathered.Inputs.IndexSelect(0, index), _gathered.Targets.IndexSelect(0, index));
    }
}
