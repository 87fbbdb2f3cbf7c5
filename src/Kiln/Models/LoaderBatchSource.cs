using Kiln.Data;

namespace Kiln.Models;

/// <summary>The batches of a <see cref="DataLoader"/>: one input and one target per batch, owned by the loader.</summary>
internal sealed class LoaderBatchSource(DataLoader loader) : BatchSource
{
    private IEnumerator<Example>? _batches;

    internal override int InputCount => 1;

    internal override int TargetCount => 1;

    internal override int BatchCount => loader.Count;

    internal override void Start(int? epoch)
    {
        Finish();
        if (epoch is int e) loader.Epoch = e;
        _batches = loader.GetEnumerator();
    }

    internal override bool MoveNext() => _batches!.MoveNext();

    internal override int Load(Tensor[] inputs, Tensor[] targets)
    {
        var (x, y) = _batches!.Current;
        inputs[0] = x;
        if (targets.Length == 0) return x.Rank == 0 ? 1 : x.Size(0);
        targets[0] = y;
        return CommonBatchSize("DataLoader batch", inputs, targets);
    }

    internal override void Finish()
    {
        var batches = _batches;
        _batches = null;
        batches?.Dispose();
    }
}
