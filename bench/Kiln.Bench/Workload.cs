namespace Kiln.Bench;

/// <summary>
/// A named benchmark. <see cref="Prepare"/> builds the inputs (outside the timing) and returns the
/// call to time; <see cref="Flops"/> is the work of one call, used when the unit is a rate.
/// </summary>
internal sealed record Workload(string Group, string Name, Unit Unit, double Flops, Func<PreparedCall> Prepare);
