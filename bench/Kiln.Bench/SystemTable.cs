namespace Kiln.Bench;

/// <summary>
/// A group whose workloads run in several systems (Kiln eager and compiled, PyTorch eager,
/// TorchScript, ONNX Runtime), reported as one table: a column per system, the best variant where a
/// system was run several ways, and the subject's time over each peer's time (lower is better;
/// "best of" divides by the fastest of several peers). The other groups keep the plain Kiln-against-
/// PyTorch table of <see cref="MarkdownReport"/>.
/// </summary>
/// <remarks>
/// Adding compiled training steps (issue 6) is one more table here, for instance group "step" with
/// columns Kiln eager ("kiln"), Kiln compiled ("kiln-compiled") and PyTorch eager ("torch"), subject
/// Kiln compiled and the ratio to PyTorch eager with target 0.4 (≥ 2.5× faster); its Kiln workloads
/// beside <see cref="Workloads.InferenceWorkloads"/> (the eager ones as "kiln", the compiled ones with
/// <see cref="Workload.Impl"/> "kiln-compiled"), its PyTorch ones in torch_bench.py's GROUPS, and the
/// group name in <see cref="BenchOptions.AllGroups"/>. ONNX Runtime then runs only for tables with an
/// ONNX Runtime column (<see cref="UsesOnnxRuntime"/>).
/// </remarks>
internal sealed record SystemTable(string Group, string Title, SystemColumn[] Columns, string Subject, SystemRatio[] Ratios)
{
    internal const string OnnxRuntimeImplPrefix = "onnxruntime";

    /// <summary>Inference latency of the MLP and the CNN at batch 1 and 64 (issue 6, "Benchmarks").</summary>
    internal static readonly SystemTable Inference = new(
        Workloads.InferenceWorkloads.Group,
        "Inference latency (eval mode)",
        [
            new("Kiln eager", ("kiln", "")),
            new("Kiln compiled", (Workloads.InferenceWorkloads.CompiledImpl, "")),
            new("PyTorch eager", ("torch", "")),
            new("TorchScript", ("torchscript-freeze", "freeze"), ("torchscript-ofi", "optimize_for_inference")),
            new("ONNX Runtime", ("onnxruntime-spin", "spin"), ("onnxruntime-nospin", "no spin")),
        ],
        "Kiln compiled",
        [
            new(["Kiln eager"]),
            new(["PyTorch eager"]),
            new(["TorchScript"]),
            new(["ONNX Runtime"]),
            new(["ONNX Runtime", "TorchScript"], Target: 0.8),
        ]);

    internal static readonly SystemTable[] All = [Inference];

    internal static SystemTable? For(string group) => Array.Find(All, t => t.Group == group);

    internal bool UsesOnnxRuntime => Columns.Any(c => c.Impls.Any(i => i.Impl.StartsWith(OnnxRuntimeImplPrefix, StringComparison.Ordinal)));

    /// <summary>
    /// The winning result of <paramref name="column"/> among pooled results (lowest median for times,
    /// highest for rates) with its variant label, or null when none of its impls ran.
    /// </summary>
    internal static (BenchResult Result, string Variant)? Best(SystemColumn column, Func<string, BenchResult?> lookup)
    {
        (BenchResult Result, string Variant)? best = null;
        foreach (var (impl, variant) in column.Impls)
        {
            var r = lookup(impl);
            if (r is null) continue;
            bool better = best is null || (r.Unit.HigherIsBetter() ? r.Median > best.Value.Result.Median : r.Median < best.Value.Result.Median);
            if (better) best = (r, variant);
        }
        return best;
    }
}
