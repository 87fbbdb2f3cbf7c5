namespace Kiln.Bench;

/// <summary>
/// A named benchmark. <see cref="Prepare"/> builds the inputs (outside the timing) and returns the
/// call to time; <see cref="Flops"/> is the work of one call, used when the unit is a rate.
/// <see cref="Impl"/> names the system a result is reported under: "kiln" for most groups, or a
/// variant such as "kiln-compiled" where a group compares several ways to run the same workload
/// (<see cref="SystemTable"/>).
/// </summary>
internal sealed record Workload(string Group, string Name, Unit Unit, double Flops, Func<PreparedCall> Prepare, string Impl = "kiln");
