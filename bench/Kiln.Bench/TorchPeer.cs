namespace Kiln.Bench;

/// <summary>
/// The PyTorch side: which interpreter and script run it, whether torch imports, and the
/// environment that gives it its best settings on this machine (threads set before import, passive
/// OpenMP waiting so its two thread pools do not spin against each other).
/// </summary>
internal sealed record TorchPeer(string Python, string Script, bool Available, string Detail)
{
    internal const string ScriptPath = "bench/peers/torch_bench.py";

    internal static TorchPeer Probe(BenchOptions options)
    {
        string python = options.Python ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
        string? script = options.TorchScript ?? FindUpwards(ScriptPath);
        if (options.NoTorch) return new TorchPeer(python, script ?? ScriptPath, false, "skipped (--no-torch)");
        if (script is null || !File.Exists(script))
            return new TorchPeer(python, script ?? ScriptPath, false, $"{ScriptPath} not found above {AppContext.BaseDirectory}");
        var outcome = ChildProcess.Run(python, [script, "--probe"], Environment(1), TimeSpan.FromMinutes(2));
        return outcome.Succeeded
            ? new TorchPeer(python, script, true, string.Join(" ", outcome.StdoutLines).Trim())
            : new TorchPeer(python, script, false, outcome.Failure());
    }

    internal static IReadOnlyDictionary<string, string> Environment(int threads)
    {
        string n = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Dictionary<string, string>
        {
            ["OMP_NUM_THREADS"] = n,
            ["OPENBLAS_NUM_THREADS"] = n,
            ["MKL_NUM_THREADS"] = n,
            ["OMP_WAIT_POLICY"] = "PASSIVE",
        };
    }

    /// <summary>The first <paramref name="relativePath"/> found in the runner's folder or a folder above it (the repository's bench/peers scripts).</summary>
    internal static string? FindUpwards(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
