using Kiln.Data;

namespace Kiln.Models;

/// <summary>
/// A batch source that enumerates a loader, one enumeration per epoch: <see cref="Start"/> sets the
/// loader's epoch (when given) and begins an enumeration, which <see cref="Finish"/> ends.
/// </summary>
internal abstract class LoaderBackedBatchSource<TItem, TBatch>(DataLoader<TItem, TBatch> loader) : BatchSource
{
    private IEnumerator<TBatch>? _batches;

    internal override int BatchCount => loader.Count;

    /// <summary>The batch the enumeration is at.</summary>
    private protected TBatch Current => _batches!.Current;

    internal override void Start(int? epoch)
    {
        Finish();
        if (epoch is int e) loader.Epoch = e;
        _batches = loader.GetEnumerator();
    }

    internal override bool MoveNext() => _batches!.MoveNext();

    internal override void Finish()
    {
        var batches = _batches;
        _batches = null;
        batches?.Dispose();
    }
}
