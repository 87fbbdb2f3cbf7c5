using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Kiln.Bench;

/// <summary>Runs one benchmark process with its own environment and collects its output.</summary>
internal static class ChildProcess
{
    internal sealed record Outcome(int ExitCode, string[] StdoutLines, string Stderr, string? StartError, double Seconds)
    {
        internal bool Succeeded => StartError is null && ExitCode == 0;

        /// <summary>Why the process failed, in one or two lines.</summary>
        internal string Failure() => StartError
            ?? $"exit code {ExitCode}: {string.Join(" / ", Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(2))}";
    }

    internal static Outcome Run(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var stdout = new List<string>();
        var stderr = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new Outcome(-1, [], "", $"cannot start {fileName}: {e.Message}", 0);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new Outcome(-1, [.. stdout], stderr.ToString(), $"{fileName} ran past {timeout.TotalSeconds:F0} s and was stopped", clock.Elapsed.TotalSeconds);
        }
        process.WaitForExit();
        return new Outcome(process.ExitCode, [.. stdout], stderr.ToString(), null, clock.Elapsed.TotalSeconds);
    }
}
