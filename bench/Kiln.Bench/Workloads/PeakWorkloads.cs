namespace Kiln.Bench.Workloads;

/// <summary>The FP32 FMA peak at the process's thread count (KILN_NUM_THREADS), to put GEMM rates in proportion.</summary>
internal static class PeakWorkloads
{
    internal const string Name = "fp32 fma peak (Vector256)";

    internal static IEnumerable<Workload> All(int threads)
    {
        if (!FmaPeak.IsSupported) yield break;
        yield return new Workload("peak", Name, Unit.GflopPerSecond, FmaPeak.FlopsPerThread * threads, () =>
        {
            var peak = new FmaPeak(threads);
            return new PreparedCall(peak.Burst, peak);
        });
    }
}
