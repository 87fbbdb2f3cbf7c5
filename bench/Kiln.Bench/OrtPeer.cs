namespace Kiln.Bench;

/// <summary>
/// The ONNX Runtime side of the infer group: Node running bench/peers/ort_bench.js with
/// onnxruntime-node (installed by <c>npm install --ignore-scripts</c> in bench/peers), on models that
/// the PyTorch peer exported once for the run with <c>torch.onnx.export</c> into <see cref="ModelDirectory"/>.
/// </summary>
internal sealed record OrtPeer(string Node, string Script, string ModelDirectory, bool Available, string Detail) : IDisposable
{
    internal const string ScriptPath = "bench/peers/ort_bench.js";

    internal static OrtPeer Unavailable(string detail) => new("node", ScriptPath, "", false, detail);

    /// <summary>Checks Node and onnxruntime-node, then has <paramref name="torch"/> export the models into a fresh temporary folder.</summary>
    internal static OrtPeer Probe(BenchOptions options, TorchPeer torch)
    {
        if (options.NoOrt) return Unavailable("skipped (--no-ort)");
        string node = options.Node ?? "node";
        string? script = TorchPeer.FindUpwards(ScriptPath);
        if (script is null) return Unavailable($"{ScriptPath} not found above {AppContext.BaseDirectory}");
        var probe = ChildProcess.Run(node, [script, "--probe"], new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
        if (!probe.Succeeded) return Unavailable($"{node} {ScriptPath} --probe: {probe.Failure()}");
        if (!torch.Available) return Unavailable($"the models are exported by PyTorch, which is not available ({torch.Detail})");

        string directory = Path.Combine(Path.GetTempPath(), $"kiln-bench-onnx-{Environment.ProcessId}");
        var export = ChildProcess.Run(torch.Python, [torch.Script, "--export-onnx", directory], TorchPeer.Environment(1), TimeSpan.FromMinutes(5));
        if (!export.Succeeded || !File.Exists(Path.Combine(directory, "manifest.json")))
        {
            DeleteDirectory(directory);
            return Unavailable($"torch.onnx.export failed: {export.Failure()}");
        }
        return new OrtPeer(node, script, directory, true, string.Join(" ", probe.StdoutLines).Trim());
    }

    /// <summary>Deletes the exported models.</summary>
    public void Dispose()
    {
        if (Available) DeleteDirectory(ModelDirectory);
    }

    private static void DeleteDirectory(string directory)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}
