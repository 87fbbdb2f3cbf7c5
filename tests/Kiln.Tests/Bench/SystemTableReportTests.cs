using System.Text.Json;
using Kiln.Bench;

namespace Kiln.Tests.Bench;

/// <summary>
/// The benchmark runner's several-systems table (bench/Kiln.Bench/SystemTable.cs): which variant
/// stands for a system, the Kiln/peer ratios and their targets, and the JSON lines the peers print.
/// No benchmark runs here.
/// </summary>
public sealed class SystemTableReportTests
{
    private const string Name = "mlp 784-256-128-10 b1";

    private static BenchResult Result(string impl, params double[] samples) =>
        new(impl, "infer", Name, 2, Unit.Microseconds, samples, 100);

    private static Dictionary<(string Impl, string Group, string Name, int Threads), BenchResult> Pooled(params BenchResult[] results) =>
        results.ToDictionary(r => (r.Impl, r.Group, r.Name, r.Threads));

    [Fact]
    public void Best_takes_the_fastest_variant_of_a_system_and_names_it()
    {
        var pooled = Pooled(Result("torchscript-freeze", 30, 31, 32), Result("torchscript-ofi", 25, 26, 40));
        var column = SystemTable.Inference.Columns.Single(c => c.Label == "TorchScript");

        var best = SystemTable.Best(column, impl => pooled.GetValueOrDefault((impl, "infer", Name, 2)));

        Assert.NotNull(best);
        Assert.Equal("torchscript-ofi", best.Value.Result.Impl);
        Assert.Equal("optimize_for_inference", best.Value.Variant);
        Assert.Null(SystemTable.Best(column, _ => null));
    }

    [Fact]
    public void Ratio_divides_the_subject_time_by_the_fastest_peer_and_is_null_without_one()
    {
        var kiln = Result("kiln-compiled", 20);

        Assert.Equal(0.5, SystemTableReport.Ratio(kiln, [Result("onnxruntime-spin", 45), Result("torchscript-freeze", 40)]));
        Assert.Equal(0.5, SystemTableReport.Ratio(kiln, [null, Result("torchscript-freeze", 40)]));
        Assert.Null(SystemTableReport.Ratio(kiln, [null, null]));
        Assert.Null(SystemTableReport.Ratio(null, [Result("torch", 40)]));
    }

    [Fact]
    public void Render_writes_one_row_per_workload_and_thread_count_with_the_target_verdict()
    {
        var pooled = Pooled(
            Result("kiln", 60), Result("kiln-compiled", 20), Result("torch", 40),
            Result("torchscript-freeze", 30), Result("onnxruntime-nospin", 50), Result("onnxruntime-spin", 45));

        string md = SystemTableReport.Render(SystemTable.Inference, pooled, [1, 2]);

        var rows = md.Split('\n').Where(l => l.StartsWith("| " + Name, StringComparison.Ordinal)).ToList();
        var row = Assert.Single(rows);
        var cells = row.Split('|', StringSplitOptions.TrimEntries)[1..^1];
        Assert.Equal(["mlp 784-256-128-10 b1", "us", "2", "60.0 (60.0–60.0)", "20.0 (20.0–20.0)", "40.0 (40.0–40.0)",
            "30.0 (30.0–30.0) *freeze*", "45.0 (45.0–45.0) *spin*", "0.333", "0.5", "0.667", "0.444", "0.667 ✓"], cells);
        Assert.Contains("Kiln compiled / best of (ONNX Runtime, TorchScript) (target ≤ 0.8)", md);
    }

    [Fact]
    public void Render_shows_a_dash_for_a_system_that_did_not_run_and_nothing_for_an_empty_group()
    {
        string md = SystemTableReport.Render(SystemTable.Inference, Pooled(Result("kiln", 60), Result("kiln-compiled", 70)), [2]);

        var row = md.Split('\n').Single(l => l.StartsWith("| " + Name, StringComparison.Ordinal));
        Assert.EndsWith("| 1.17 | — | — | — | — |", row);
        Assert.Equal("", SystemTableReport.Render(SystemTable.Inference, Pooled(), [2]));
    }

    [Fact]
    public void A_result_line_of_the_onnx_runtime_peer_parses_with_its_impl_and_unit()
    {
        const string line = """{"type":"result","impl":"onnxruntime-nospin","group":"infer","name":"cnn fashion-mnist b64","threads":2,"unit":"ms","median":13.4,"q1":13.1,"q3":13.9,"reps":3,"inner":2,"samples":[13.1,13.4,13.9]}""";
        using var doc = JsonDocument.Parse(line);

        var r = BenchResult.FromJson(doc.RootElement);

        Assert.Equal(("onnxruntime-nospin", "infer", "cnn fashion-mnist b64", 2, Unit.Milliseconds, 2), (r.Impl, r.Group, r.Name, r.Threads, r.Unit, r.CallsPerRep));
        Assert.Equal(13.4, r.Median, 12);
    }

    [Fact]
    public void Options_accept_the_infer_group_and_the_onnx_runtime_switches()
    {
        var o = BenchOptions.Parse(["--compare", "--groups", "infer", "--node", "/opt/node", "--no-ort"]);

        Assert.Equal(["infer"], o.Groups);
        Assert.Equal("/opt/node", o.Node);
        Assert.True(o.NoOrt);
        Assert.True(SystemTable.For("infer")!.UsesOnnxRuntime);
        Assert.Null(SystemTable.For("gemm"));
    }
}
