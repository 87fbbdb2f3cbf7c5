using Kiln.Data;

namespace Kiln.Models;

/// <summary>The batches of a <see cref="DataLoader"/>: one input and one target per batch, owned by the loader.</summary>
internal sealed class LoaderBatchSource(DataLoader loader) : LoaderBackedBatchSource<Example, Example>(loader)
{
    internal override int InputCount => 1;

    internal override int TargetCount => 1;

    internal override int Load(Tensor[] inputs, Tensor[] targets)
    {
        var (x, y) = Current;
        inputs[0] = x;
        if (targets.Length == 0) return x.Rank == 0 ? 1 : x.Size(0);
        targets[0] = y;
        return CommonBatchSize("DataLoader batch", inputs, targets);
    }
}
