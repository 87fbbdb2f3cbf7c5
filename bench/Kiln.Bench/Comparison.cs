using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>
/// The side-by-side run: for each round, for each group, for each thread count, one Kiln process then
/// one PyTorch process (and one ONNX Runtime process for groups with an ONNX Runtime column, see
/// <see cref="SystemTable"/>), so slow drifts of a shared machine's load hit all alike. Each process prints
/// JSON lines; the samples of all rounds are pooled per workload and rendered by <see cref="MarkdownReport"/>.
/// </summary>
internal sealed class Comparison(BenchOptions options)
{
    /// <summary>Groups PyTorch has no counterpart for.</summary>
    private static readonly string[] KilnOnlyGroups = ["peak", "gemm-kernel", "conv-kernel", "compile", "compile-train"];

    private static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(10);

    private readonly List<BenchResult> _results = [];
    private readonly List<RunSettings> _settings = [];
    private readonly List<string> _problems = [];
    private readonly List<string> _raw = [];

    internal int Run()
    {
        string loadBefore = MachineInfo.LoadAverage();
        var clock = Stopwatch.StartNew();
        var peer = TorchPeer.Probe(options);
        Progress(peer.Available ? $"PyTorch: {peer.Detail}" : $"PyTorch not available: {peer.Detail}");
        using var ort = options.Groups.Any(g => SystemTable.For(g)?.UsesOnnxRuntime == true)
            ? OrtPeer.Probe(options, peer)
            : OrtPeer.Unavailable("no group with an ONNX Runtime column");
        if (options.Groups.Any(g => SystemTable.For(g)?.UsesOnnxRuntime == true))
            Progress(ort.Available ? $"ONNX Runtime: {ort.Detail}, models in {ort.ModelDirectory}" : $"ONNX Runtime not available: {ort.Detail}");

        for (int round = 1; round <= options.Rounds; round++)
        {
            foreach (var group in options.Groups)
            {
                foreach (int threads in options.Threads)
                {
                    RunKiln(round, group, threads);
                    if (peer.Available && !KilnOnlyGroups.Contains(group)) RunTorch(peer, round, group, threads);
                    if (ort.Available && SystemTable.For(group)?.UsesOnnxRuntime == true) RunOrt(ort, round, threads);
                }
            }
        }

        var report = new MarkdownReport(options, peer, ort, _results, _settings, _problems)
        {
            LoadBefore = loadBefore,
            LoadAfter = MachineInfo.LoadAverage(),
            Elapsed = clock.Elapsed,
        }.Render();
        Console.Write(report);
        if (options.OutFile is not null) File.WriteAllText(options.OutFile, report);
        if (options.RawFile is not null) File.WriteAllLines(options.RawFile, _raw);
        return _problems.Count == 0 ? 0 : 1;
    }

    private void RunKiln(int round, string group, int threads)
    {
        var (fileName, prefix) = SelfCommand();
        string[] arguments = [.. prefix, "--groups", group, "--json", .. options.MeasureArguments(), .. FilterArguments()];
        var environment = new Dictionary<string, string> { ["KILN_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture) };
        Collect("kiln", round, group, threads, ChildProcess.Run(fileName, arguments, environment, ChildTimeout));
    }

    private void RunTorch(TorchPeer peer, int round, string group, int threads)
    {
        string[] arguments = [peer.Script, "--group", group, "--threads", threads.ToString(CultureInfo.InvariantCulture),
            .. options.MeasureArguments(), .. FilterArguments()];
        Collect("torch", round, group, threads, ChildProcess.Run(peer.Python, arguments, TorchPeer.Environment(threads), ChildTimeout));
    }

    private void RunOrt(OrtPeer ort, int round, int threads)
    {
        string[] arguments = [ort.Script, "--models", ort.ModelDirectory, "--threads", threads.ToString(CultureInfo.InvariantCulture),
            .. options.MeasureArguments(), .. FilterArguments()];
        Collect("onnxruntime", round, SystemTable.Inference.Group, threads, ChildProcess.Run(ort.Node, arguments, new Dictionary<string, string>(), ChildTimeout));
    }

    private IEnumerable<string> FilterArguments() => options.Filter is null ? [] : ["--filter", options.Filter];

    private void Collect(string impl, int round, string group, int threads, ChildProcess.Outcome outcome)
    {
        string what = $"round {round}/{options.Rounds}: {impl} {group} {threads}T";
        int count = 0;
        foreach (var line in outcome.StdoutLines)
        {
            if (!line.StartsWith('{')) continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            switch (root.GetProperty("type").GetString())
            {
                case "result": _results.Add(BenchResult.FromJson(root)); count++; break;
                case "settings": _settings.Add(RunSettings.FromJson(root)); break;
            }
            _raw.Add(line);
        }
        foreach (var warning in outcome.Stderr.Split('\n').Where(l => l.StartsWith("warning:", StringComparison.Ordinal)))
        {
            _problems.Add($"{what}: {warning.Trim()}");
            Progress($"{what}: {warning.Trim()}");
        }
        if (!outcome.Succeeded)
        {
            _problems.Add($"{what}: FAILED {outcome.Failure()}");
            Progress($"{what}: FAILED {outcome.Failure()}");
        }
        else
        {
            Progress(string.Create(CultureInfo.InvariantCulture, $"{what}: {count} results in {outcome.Seconds:F1} s"));
        }
    }

    /// <summary>How to start this runner again: its apphost, or `dotnet Kiln.Bench.dll` when run through dotnet.</summary>
    private static (string FileName, string[] Prefix) SelfCommand()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (process, [typeof(Comparison).Assembly.Location])
            : (process, []);
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[bench] {message}");
}
