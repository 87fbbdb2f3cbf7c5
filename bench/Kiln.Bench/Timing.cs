namespace Kiln.Bench;

/// <summary>Seconds per call of each timed repetition, and how many calls each repetition made.</summary>
internal sealed record Timing(double[] SecondsPerCall, int CallsPerRep);
