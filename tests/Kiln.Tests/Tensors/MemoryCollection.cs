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
    internal static MemoryStats Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Engine.MemoryStats();
    }
}
