namespace Kiln.Models;

/// <summary>
/// The batches Fit, Evaluate and Predict walk through, one epoch at a time, whatever they come from (a
/// DataLoader, or tensors cut into batches here): the loop starts an epoch, moves batch by batch, and
/// loads each batch's tensors inside its step's scope, so every tensor a step makes dies with the step.
/// </summary>
internal abstract class BatchSource : IDisposable
{
    /// <summary>The number of input tensors of each batch.</summary>
    internal abstract int InputCount { get; }

    /// <summary>The number of target tensors of each batch (0 where there are none, as for Predict).</summary>
    internal abstract int TargetCount { get; }

    /// <summary>The number of batches an epoch yields.</summary>
    internal abstract int BatchCount { get; }

    /// <summary>Starts an epoch; <paramref name="epoch"/>, when given, is the epoch the shuffle order is drawn for.</summary>
    internal abstract void Start(int? epoch);

    /// <summary>Moves to the next batch of the epoch; false at its end.</summary>
    internal abstract bool MoveNext();

    /// <summary>
    /// Puts the current batch's tensors into <paramref name="inputs"/> (<see cref="InputCount"/> long)
    /// and <paramref name="targets"/> (<see cref="TargetCount"/> long, or empty to skip them), and
    /// returns the number of samples in the batch.
    /// </summary>
    internal abstract int Load(Tensor[] inputs, Tensor[] targets);

    /// <summary>Ends the epoch's enumeration (also when it stopped early).</summary>
    internal abstract void Finish();

    /// <summary>Ends any enumeration and frees what the source made.</summary>
    public virtual void Dispose() => Finish();

    /// <summary>The batch size shared by every tensor of a batch; a clear error when they disagree.</summary>
    private protected static int CommonBatchSize(string what, Tensor[] inputs, Tensor[] targets)
    {
        int n = -1;
        foreach (var t in inputs) n = Check(n, t);
        foreach (var t in targets) n = Check(n, t);
        return n;

        int Check(int size, Tensor t)
        {
            if (t.Rank == 0 || (size >= 0 && t.Size(0) != size))
                throw new KilnShapeException($"{what}: every input and target of a batch needs the same first (batch) dimension, but the batch has "
                    + $"inputs {string.Join(", ", inputs.Select(x => x.Shape.ToString()))} and targets {string.Join(", ", targets.Select(y => y.Shape.ToString()))}");
            return t.Size(0);
        }
    }
}
