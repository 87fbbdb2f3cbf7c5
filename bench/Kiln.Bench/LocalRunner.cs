using System.Globalization;
using System.Runtime.InteropServices;
using Kiln.Bench.Workloads;
using Kiln.Kernels.Cpu;

namespace Kiln.Bench;

/// <summary>Runs Kiln workloads in this process at the pool's thread count (KILN_NUM_THREADS) and prints each result.</summary>
internal static class LocalRunner
{
    internal static int Run(BenchOptions options)
    {
        int threads = WorkerPool.Shared.ThreadCount;
        var workloads = Workloads(options, threads).ToList();
        if (options.List)
        {
            foreach (var w in workloads) Console.WriteLine($"{w.Group,-12} {w.Name} ({w.Unit.Label()}){(w.Impl == "kiln" ? "" : $" [{w.Impl}]")}");
            return 0;
        }

        var settings = Settings(threads);
        if (options.Json) Console.WriteLine(settings.ToJson());
        else foreach (var (key, value) in settings.Values) Console.WriteLine($"# {key}: {value}");

        bool first = true;
        foreach (var workload in workloads)
        {
            Timing timing;
            long leaked;
            using (var prepared = workload.Prepare())
            {
                // Counted from after a first call: what that call keeps by design (cached scalar
                // operands such as a mean's 1/count) is not a leak.
                prepared.Call();
                long before = Engine.MemoryStats().BytesInUse;
                timing = Measurement.Run(prepared.Call, options.Measure, first);
                // Memory still in use means the calls left tensors to the finalizer: the timing then
                // includes fresh allocations and collection, not Kiln's steady state.
                leaked = Engine.MemoryStats().BytesInUse - before;
            }
            first = false;
            if (leaked > 0)
                Console.Error.WriteLine($"warning: {workload.Group} '{workload.Name}' left {leaked} bytes of tensors unreleased; wrap the call in Engine.Scope()");
            var result = BenchResult.From(workload, workload.Impl, threads, timing);
            Console.WriteLine(options.Json ? result.ToJson() : Describe(result));
        }
        return 0;
    }

    private static IEnumerable<Workload> Workloads(BenchOptions options, int threads)
    {
        IEnumerable<Workload> all = PeakWorkloads.All(threads)
            .Concat(GemmWorkloads.All())
            .Concat(EagerWorkloads.All())
            .Concat(ConvWorkloads.All())
            .Concat(ConvKernelWorkloads.All())
            .Concat(OpsWorkloads.All())
            .Concat(CompileWorkloads.All())
            .Concat(CompiledTrainingWorkloads.All())
            .Concat(InferenceWorkloads.All());
        return all.Where(w => options.Groups.Contains(w.Group)
            && (options.Filter is null || w.Name.Contains(options.Filter, StringComparison.OrdinalIgnoreCase)));
    }

    private static RunSettings Settings(int threads) => new("kiln", threads,
    [
        new("runtime", RuntimeInformation.FrameworkDescription),
        new("threads", $"KILN_NUM_THREADS={Environment.GetEnvironmentVariable("KILN_NUM_THREADS") ?? "(unset)"}, pool {threads}"),
        new("gemm tier", GemmKernel.BestTier.ToString()),
        new("build", IsOptimized() ? "Release" : "Debug (not optimized: timings are meaningless)"),
        new("gc", $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, concurrent {AppContext.TryGetSwitch("System.GC.Concurrent", out var concurrent) && concurrent}"),
        new("tiered compilation", Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "default (TieredPGO on)"),
    ]);

    private static bool IsOptimized()
    {
        var attribute = typeof(LocalRunner).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().FirstOrDefault();
        return attribute is null || !attribute.IsJITOptimizerDisabled;
    }

    private static string Describe(BenchResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Group,-12} {r.Name,-36} {r.Impl,-13} {r.Threads}T {r.Median,10:G4} {r.Unit.Label(),-8} IQR {r.Q1:G4}-{r.Q3:G4}  ({r.Samples.Length} reps x {r.CallsPerRep} calls)");
}
