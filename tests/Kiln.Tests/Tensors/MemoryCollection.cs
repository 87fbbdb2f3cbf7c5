namespace Kiln.Tests.Tensors;

/// <summary>
/// Tests that assert exact pool statistics. The pool is process-wide, so they run alone, after the
/// parallel tests, and start from a settled heap (finalizers of other tests' garbage already run).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "Memory statistics";

    /// <summary>Runs pending finalizers so no earlier garbage returns memory during the test, then reads the stats.</summary>
    /// <summary>
    /// Uses each value once as a float32 scalar operand, so the thread's cache of scalar operands
    /// holds it before a test takes its baseline (the cache keeps a few 0-d tensors for good).
    /// </summary>
    internal static void WarmScalars(params double[] values)
    {
        using var one = Tensor.Ones([1]);
        using var scope = Engine.Scope();
        foreach (var v in values) _ = one * v;
    }

    internal static MemoryStats Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Engine.MemoryStats();
    }
}
