using System.Runtime.InteropServices;

namespace Kiln.Bench;

/// <summary>What the report says about the machine: CPU model, core count, load average.</summary>
internal static class MachineInfo
{
    internal static string Cpu()
    {
        const string cpuinfo = "/proc/cpuinfo";
        string model = RuntimeInformation.ProcessArchitecture.ToString();
        if (File.Exists(cpuinfo))
        {
            var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) model = line[(line.IndexOf(':') + 1)..].Trim();
        }
        return $"{model}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}";
    }

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown".</summary>
    internal static string LoadAverage()
    {
        const string loadavg = "/proc/loadavg";
        if (!File.Exists(loadavg)) return "unknown";
        var parts = File.ReadAllText(loadavg).Split(' ');
        return parts.Length >= 3 ? $"{parts[0]}, {parts[1]}, {parts[2]}" : "unknown";
    }
}
