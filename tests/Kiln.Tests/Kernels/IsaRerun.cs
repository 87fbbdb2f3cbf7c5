using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Kiln.Tests.Kernels;

/// <summary>
/// Runs this test assembly's kernel tests (classes whose names end in "KernelTests") again in a child
/// <c>dotnet test</c> with one instruction-set extension switched off through its DOTNET_Enable* variable,
/// so the Vector256, Vector128 and scalar paths are proven too, not only the tier this machine picks.
/// </summary>
internal static partial class IsaRerun
{
    /// <summary>Set in the child so the rerun tests do not start reruns of their own.</summary>
    internal const string ChildVariable = "KILN_ISA_CHILD";

    internal const string Filter = "FullyQualifiedName~KernelTests";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    internal static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    internal sealed record Result(int ExitCode, int Passed, int Failed, string Output, TimeSpan Elapsed);

    internal static Result Run(string isaVariable)
    {
        var testDll = typeof(IsaRerun).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory.CreateTempSubdirectory("kiln-isa-").FullName,
        };
        foreach (var arg in new[] { "test", testDll, "--filter", Filter }) start.ArgumentList.Add(arg);
        start.Environment[isaVariable] = "0";
        start.Environment[ChildVariable] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) output.AppendLine($"[killed after {Timeout.TotalMinutes} minutes]");
            return new Result(-1, 0, 0, output.ToString(), clock.Elapsed);
        }
        process.WaitForExit(); // drains the redirected streams
        try { Directory.Delete(start.WorkingDirectory, recursive: true); } catch (IOException) { }

        string text;
        lock (output) text = output.ToString();
        var summary = Summary().Match(text);
        int passed = summary.Success ? int.Parse(summary.Groups["passed"].Value) : 0;
        int failed = summary.Success ? int.Parse(summary.Groups["failed"].Value) : 0;
        return new Result(process.ExitCode, passed, failed, text, clock.Elapsed);
    }

    /// <summary>The dotnet executable that runs this process (or the one the SDK names), else the one on PATH.</summary>
    internal static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Path.GetFileName(Environment.ProcessPath) == exe) return Environment.ProcessPath!;
        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, exe);
        return File.Exists(candidate) ? candidate : exe;
    }

    [GeneratedRegex(@"Failed:\s*(?<failed>\d+),\s*Passed:\s*(?<passed>\d+)")]
    private static partial Regex Summary();
}
