using System.Globalization;
using System.Text;
using Kiln.Bench.Workloads;

namespace Kiln.Bench;

/// <summary>
/// The comparison as Markdown: the FMA peak line, one table row per workload and thread count
/// (pooled median and interquartile range of every round's repetitions, for Kiln and PyTorch, their
/// ratio, which side is faster, and GEMM rates as a share of the peak), a <see cref="SystemTable"/> for
/// groups compared across several systems, then the settings used.
/// </summary>
internal sealed class MarkdownReport(BenchOptions options, TorchPeer peer, OrtPeer ort, IReadOnlyList<BenchResult> results,
    IReadOnlyList<RunSettings> settings, IReadOnlyList<string> problems)
{
    internal string LoadBefore { get; init; } = "unknown";
    internal string LoadAfter { get; init; } = "unknown";
    internal TimeSpan Elapsed { get; init; }

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    internal string Render()
    {
        var pooled = Pool();
        var md = new StringBuilder();
        md.AppendLine("## Kiln vs PyTorch (CPU)").AppendLine();

        var peaks = options.Threads
            .Select(t => (Threads: t, Result: pooled.GetValueOrDefault(("kiln", "peak", PeakWorkloads.Name, t))))
            .Where(p => p.Result is not null).ToList();
        if (peaks.Count > 0)
        {
            md.Append($"**FP32 peak** ({FmaPeak.Chains} independent Vector256 FMA chains per thread): ");
            md.AppendJoin("; ", peaks.Select(p => $"{p.Threads}T {Cell(p.Result)} GFLOP/s, best {Fmt(p.Result!.Samples.Max())}"));
            md.AppendLine(". The % peak columns divide a median by the best peak sample at the same thread count.").AppendLine();
        }
        if (!peer.Available) md.AppendLine($"**PyTorch not measured**: {peer.Detail}. Kiln only.").AppendLine();

        var plain = results.Where(r => r.Group != "peak" && SystemTable.For(r.Group) is null).Select(r => (r.Group, r.Name)).Distinct().ToList();
        if (plain.Count > 0)
        {
            md.AppendLine("| workload | unit | threads | Kiln | PyTorch | Kiln/PyTorch | Kiln is | Kiln % peak | PyTorch % peak |");
            md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
        }
        foreach (var (group, name) in plain)
        {
            foreach (int threads in options.Threads)
            {
                var kiln = pooled.GetValueOrDefault(("kiln", group, name, threads));
                var torch = group is "gemm-kernel" or "conv-kernel" ? null : pooled.GetValueOrDefault(("torch", group, name, threads));
                if (kiln is null && torch is null) continue;
                var unit = (kiln ?? torch)!.Unit;
                var peak = peaks.FirstOrDefault(p => p.Threads == threads).Result;
                string label = group == "gemm-kernel" ? $"{name} (raw kernel)" : name;
                md.Append($"| {label} | {unit.Label()} {(unit.HigherIsBetter() ? "↑" : "↓")} | {threads} | {Cell(kiln)} | {Cell(torch)} | ");
                md.Append(kiln is not null && torch is not null ? Fmt(kiln.Median / torch.Median) : "—").Append(" | ");
                md.Append(Verdict(kiln, torch, unit)).Append(" | ");
                md.Append(PercentOfPeak(kiln, peak)).Append(" | ").Append(PercentOfPeak(torch, peak)).AppendLine(" |");
            }
        }
        if (plain.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Each cell is the median (interquartile range) of all timed repetitions pooled over the rounds. " +
                "↑: higher is better (Kiln/PyTorch > 1 means Kiln is faster); ↓: lower is better (Kiln/PyTorch < 1 means Kiln is faster). " +
                "\"Kiln is\" states the speed ratio either way.").AppendLine();
        }
        foreach (var table in SystemTable.All.Where(t => options.Groups.Contains(t.Group)))
        {
            if (table.UsesOnnxRuntime && !ort.Available) md.AppendLine($"**ONNX Runtime not measured**: {ort.Detail}.").AppendLine();
            md.Append(SystemTableReport.Render(table, pooled, options.Threads));
        }

        md.AppendLine("### Settings").AppendLine();
        md.AppendLine($"- Machine: {MachineInfo.Cpu()}; load average before {LoadBefore}, after {LoadAfter}.");
        md.AppendLine(string.Create(Invariant,
            $"- Procedure: rounds: {options.Rounds}; each round runs, per group and per thread count, one Kiln process then one PyTorch process (when available), " +
            $"then for groups with an ONNX Runtime column one Node process running ONNX Runtime (when available) " +
            $"(groups {string.Join(", ", options.Groups)}; threads {string.Join(", ", options.Threads)}). " +
            $"Per workload: warm-up ≥ {options.Measure.WarmupMs} ms (the first of each process ≥ {options.Measure.FirstWarmupMs} ms), then {options.Measure.Reps} repetitions of ≈ {options.Measure.RepMs} ms " +
            $"(fewer, at least {MeasureOptions.MinReps}, when they would exceed {options.Measure.MaxMs} ms). Total {Elapsed.TotalMinutes:F1} min.")
            + (options.Filter is null ? "" : $" Filter: '{options.Filter}'."));
        foreach (var (impl, label) in new[] { ("kiln", "Kiln"), ("torch", "PyTorch"), ("onnxruntime", "ONNX Runtime") })
        {
            var merged = settings.Where(s => s.Impl == impl).SelectMany(s => s.Values)
                .GroupBy(kv => kv.Key, kv => kv.Value)
                .Select(g => $"{g.Key}: {string.Join(" | ", g.Distinct())}").ToList();
            if (merged.Count > 0) md.AppendLine($"- {label}: {string.Join("; ", merged)}.");
        }
        if (peer.Available) md.AppendLine($"- PyTorch environment per process: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = threads, OMP_WAIT_POLICY=PASSIVE; {peer.Python} {peer.Script}.");
        if (ort.Available) md.AppendLine($"- ONNX Runtime process: {ort.Detail}; {ort.Node} {ort.Script} --models (exported once per run by {peer.Script} --export-onnx).");
        foreach (var p in problems) md.AppendLine($"- Problem: {p}");
        return md.ToString();
    }

    private Dictionary<(string Impl, string Group, string Name, int Threads), BenchResult> Pool() =>
        results.GroupBy(r => (r.Impl, r.Group, r.Name, r.Threads))
            .ToDictionary(g => g.Key, g => g.First() with { Samples = g.SelectMany(r => r.Samples).ToArray() });

    internal static string Cell(BenchResult? r) =>
        r is null ? "—" : $"{Fmt(r.Median)} ({Fmt(r.Q1)}–{Fmt(r.Q3)})";

    private static string Verdict(BenchResult? kiln, BenchResult? torch, Unit unit)
    {
        if (kiln is null || torch is null) return "—";
        double speed = unit.HigherIsBetter() ? kiln.Median / torch.Median : torch.Median / kiln.Median;
        return speed >= 1 ? $"{Fmt(speed)}× faster" : $"{Fmt(1 / speed)}× slower";
    }

    private static string PercentOfPeak(BenchResult? r, BenchResult? peak) =>
        r is null || peak is null || r.Unit != Unit.GflopPerSecond ? "" : (100 * r.Median / peak.Samples.Max()).ToString("F0", Invariant) + "%";

    /// <summary>Three significant digits, plain notation.</summary>
    internal static string Fmt(double v)
    {
        double a = Math.Abs(v);
        string format = a >= 100 ? "F0" : a >= 10 ? "F1" : a >= 1 ? "F2" : "G3";
        return v.ToString(format, Invariant);
    }
}
