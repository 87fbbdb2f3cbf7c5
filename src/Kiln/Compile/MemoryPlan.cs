namespace Kiln.Compile;

/// <summary>
/// Where each intermediate result of a graph lives while it runs: a byte offset in one arena buffer
/// allocated once and reused by every call. Results returned to the caller are not in the arena; they
/// are written straight into the tensor handed back (see <see cref="MemoryPlanningPass"/>).
/// </summary>
internal sealed class MemoryPlan
{
    internal MemoryPlan(long arenaBytes, Dictionary<GraphValue, long> offsets, HashSet<GraphValue> returned, Dictionary<GraphValue, GraphValue> inPlace)
    {
        ArenaBytes = arenaBytes;
        Offsets = offsets;
        Returned = returned;
        InPlace = inPlace;
    }

    /// <summary>The arena's size in bytes (0 when nothing lives in it).</summary>
    internal long ArenaBytes { get; }

    /// <summary>The byte offset (a multiple of 64) of every result that lives in the arena.</summary>
    internal IReadOnlyDictionary<GraphValue, long> Offsets { get; }

    /// <summary>Node results the graph returns, computed directly into the returned tensor.</summary>
    internal IReadOnlySet<GraphValue> Returned { get; }

    /// <summary>Results written over the buffer of one of their node's inputs (result to input).</summary>
    internal IReadOnlyDictionary<GraphValue, GraphValue> InPlace { get; }
}
