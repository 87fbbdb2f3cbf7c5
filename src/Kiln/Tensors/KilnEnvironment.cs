namespace Kiln;

/// <summary>The one place that reads KILN_* environment variables.</summary>
internal static class KilnEnvironment
{
    /// <summary>KILN_NUM_THREADS, or the core count.</summary>
    internal static int NumThreads { get; } = ReadInt("KILN_NUM_THREADS", Environment.ProcessorCount, 1, 1024);

    /// <summary>KILN_POOL_CACHE_MB: how much freed tensor memory is kept for reuse.</summary>
    internal static long PoolCacheBytes { get; } = ReadInt("KILN_POOL_CACHE_MB", 2048, 0, 1 << 20) * (1L << 20);

    /// <summary>
    /// KILN_DATA: a directory holding datasets, each in a subdirectory named as the dataset
    /// (e.g. fashion-mnist), or null when unset. Read at each use, so a program may set it.
    /// </summary>
    internal static string? DataRoot
    {
        get
        {
            var text = Environment.GetEnvironmentVariable("KILN_DATA");
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }
    }

    /// <summary>
    /// KILN_DUMP_GRAPH: a directory the graph compiler writes each compiled graph into, after tracing
    /// and after every pass, or null when unset. Read at each compile, so a program may set it.
    /// </summary>
    internal static string? DumpGraphDirectory
    {
        get
        {
            var text = Environment.GetEnvironmentVariable("KILN_DUMP_GRAPH");
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }
    }

    private static int ReadInt(string name, int fallback, int min, int max)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!int.TryParse(text, out var value) || value < min || value > max)
            throw new KilnException($"{name}={text} is not a whole number in [{min}, {max}]");
        return value;
    }
}
