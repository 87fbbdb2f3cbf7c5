using Kiln.Data;

namespace Kiln.Tests.Data;

/// <summary>
/// A dataset whose item i is (input [i, 10 i], target i) made fresh on each call; it counts calls, can
/// wait in each, and can throw at one index.
/// </summary>
internal sealed class CountingDataset(int count, int delayMs = 0, int failAt = -1, Transform? transform = null) : Dataset<Example>
{
    private int _calls;

    internal int Calls => Volatile.Read(ref _calls);

    public override int Count => count;

    protected override Example GetItem(int index)
    {
        Interlocked.Increment(ref _calls);
        if (delayMs > 0) Thread.Sleep(delayMs);
        if (index == failAt) throw new InvalidOperationException($"item {index} is broken");
        var input = Tensor.From<float>([index, 10f * index]);
        return new Example(transform is null ? input : transform.Apply(input), Tensor.Scalar(index, DType.Int64));
    }
}
