namespace Kiln.Bench;

/// <summary>
/// How a workload is timed: warm up for at least <see cref="WarmupMs"/> (and two calls; the first
/// workload of a process for <see cref="FirstWarmupMs"/>, since it also carries the runtime's one-time
/// compilation of the shared paths and tiered compilation's promotions), then
/// <see cref="Reps"/> timed repetitions, each a batch of calls sized to last about <see cref="RepMs"/>;
/// the repetitions are cut (to no fewer than three) when they would take longer than <see cref="MaxMs"/>.
/// </summary>
internal sealed record MeasureOptions(int Reps = 9, double RepMs = 25, double WarmupMs = 500, double FirstWarmupMs = 2000, double MaxMs = 3000)
{
    internal const int MinReps = 3;
}
