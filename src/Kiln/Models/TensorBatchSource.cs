using Kiln.Data;

namespace Kiln.Models;

/// <summary>
/// Batches cut from whole tensors (Fit(x, y), Evaluate(x, y), Predict(x)): each batch gathers the same
/// rows of every tensor with one IndexSelect, as a <see cref="DataLoader"/> over a
/// <see cref="TensorDataset"/> does, and in the same order: the rows are enumerated by a loader of
/// row numbers, so the shuffle (drawn from Kiln's random stream per epoch) and the epoch numbering
/// are the DataLoader's. The gathered tensors belong to the step's scope.
/// </summary>
internal sealed class TensorBatchSource : LoaderBackedBatchSource<int, int[]>
{
    private readonly Tensor[] _inputs;
    private readonly Tensor[] _targets;
    private readonly bool _ownsTensors;
    private readonly long[] _positions;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> rows of <paramref name="inputs"/> and <paramref name="targets"/>
    /// (all with <paramref name="rows"/> rows). With <paramref name="ownsTensors"/>, Dispose disposes them
    /// (views made for a validation split).
    /// </summary>
    internal TensorBatchSource(Tensor[] inputs, Tensor[] targets, int rows, int batchSize, bool shuffle, bool ownsTensors = false)
        : base(new DataLoader<int, int[]>(new RowNumbers(rows), batchSize, static items => items as int[] ?? [.. items], shuffle))
    {
        _inputs = inputs;
        _targets = targets;
        _ownsTensors = ownsTensors;
        _positions = new long[Math.Min(batchSize, Math.Max(rows, 1))];
    }

    internal override int InputCount => _inputs.Length;

    internal override int TargetCount => _targets.Length;

    internal override int Load(Tensor[] inputs, Tensor[] targets)
    {
        var rows = Current;
        for (int j = 0; j < rows.Length; j++) _positions[j] = rows[j];
        using var index = Tensor.From<long>(_positions.AsSpan(0, rows.Length));
        for (int i = 0; i < _inputs.Length; i++) inputs[i] = _inputs[i].IndexSelect(0, index);
        if (targets.Length > 0)
            for (int i = 0; i < _targets.Length; i++) targets[i] = _targets[i].IndexSelect(0, index);
        return rows.Length;
    }

    public override void Dispose()
    {
        base.Dispose();
        if (!_ownsTensors) return;
        foreach (var t in _inputs) t.Dispose();
        foreach (var t in _targets) t.Dispose();
    }

    /// <summary>The row numbers 0 to count - 1, the items the row loader shuffles and batches.</summary>
    private sealed class RowNumbers(int count) : Dataset<int>
    {
        public override int Count => count;

        protected override int GetItem(int index) => index;
    }
}
