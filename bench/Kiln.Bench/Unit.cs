namespace Kiln.Bench;

/// <summary>What a workload reports: a rate from its FLOP count (higher is better) or a time per call (lower is better).</summary>
internal enum Unit
{
    GflopPerSecond,
    Microseconds,
    Milliseconds,
}

/// <summary>Labels and conversions of <see cref="Unit"/>, spelled as in the JSON lines of both runners.</summary>
internal static class UnitInfo
{
    internal static string Label(this Unit unit) => unit switch
    {
        Unit.GflopPerSecond => "GFLOP/s",
        Unit.Microseconds => "us",
        _ => "ms",
    };

    internal static bool HigherIsBetter(this Unit unit) => unit == Unit.GflopPerSecond;

    internal static Unit Parse(string label) => label switch
    {
        "GFLOP/s" => Unit.GflopPerSecond,
        "us" => Unit.Microseconds,
        "ms" => Unit.Milliseconds,
        _ => throw new FormatException($"unknown unit '{label}'"),
    };

    /// <summary>One sample in this unit from seconds per call (and the call's FLOP count for rates).</summary>
    internal static double FromSeconds(this Unit unit, double seconds, double flops) => unit switch
    {
        Unit.GflopPerSecond => flops / seconds / 1e9,
        Unit.Microseconds => seconds * 1e6,
        _ => seconds * 1e3,
    };
}
