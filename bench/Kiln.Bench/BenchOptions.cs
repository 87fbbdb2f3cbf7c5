using System.Globalization;

namespace Kiln.Bench;

/// <summary>The runner's command line (see <see cref="Usage"/>).</summary>
internal sealed record BenchOptions
{
    internal bool Compare { get; init; }
    internal bool List { get; init; }
    internal bool Json { get; init; }
    internal bool Help { get; init; }
    internal string[] Groups { get; init; } = [];
    internal string? Filter { get; init; }
    internal MeasureOptions Measure { get; init; } = new();
    internal int Rounds { get; init; } = 3;
    internal int[] Threads { get; init; } = [1, 2];
    internal string? Python { get; init; }
    internal string? TorchScript { get; init; }
    internal bool NoTorch { get; init; }
    internal string? Node { get; init; }
    internal bool NoOrt { get; init; }
    internal string? OutFile { get; init; }
    internal string? RawFile { get; init; }

    internal static readonly string[] AllGroups = ["peak", "gemm", "gemm-kernel", "eager", "conv", "conv-kernel", "ops", "compile", "compile-train", "infer"];

    internal const string Usage = """
        Kiln.Bench: side-by-side benchmarks of Kiln and PyTorch (bench/README.md).

          Kiln.Bench [--groups g1,g2] [--filter TEXT] [--json] [timing options]
              Runs Kiln workloads in this process, at KILN_NUM_THREADS threads.
          Kiln.Bench --compare [--rounds R] [--threads 1,2] [--groups ...] [--python PATH]
                     [--torch-script PATH] [--no-torch] [--node PATH] [--no-ort]
                     [--out FILE.md] [--raw FILE.jsonl] [timing options]
              Alternates one Kiln process and one PyTorch process (and, for infer, one ONNX Runtime
              process under Node) per group and thread count, R times over, and prints a Markdown
              table of the medians.
          Kiln.Bench --list
              Lists the workloads.

        Groups: peak, gemm, gemm-kernel, eager, conv, conv-kernel, ops, compile, compile-train, infer (default: all).
        Timing options: --reps N (9) timed repetitions after warm-up, --rep-ms X (25) length of one
        repetition, --warmup-ms X (500) per workload, --first-warmup-ms X (2000) for the first workload
        of a process, --max-ms X (3000) cap on the timed part of one workload.
        """;

    internal static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions { Groups = AllGroups };
        var m = o.Measure;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--compare": o = o with { Compare = true }; break;
                case "--list": o = o with { List = true }; break;
                case "--json": o = o with { Json = true }; break;
                case "--help" or "-h": o = o with { Help = true }; break;
                case "--no-torch": o = o with { NoTorch = true }; break;
                case "--no-ort": o = o with { NoOrt = true }; break;
                case "--node": o = o with { Node = Value() }; break;
                case "--groups" or "--group": o = o with { Groups = ParseGroups(Value()) }; break;
                case "--filter": o = o with { Filter = Value() }; break;
                case "--rounds": o = o with { Rounds = Positive(args[i], Value()) }; break;
                case "--threads": o = o with { Threads = Value().Split(',').Select(t => Positive("--threads", t)).ToArray() }; break;
                case "--python": o = o with { Python = Value() }; break;
                case "--torch-script": o = o with { TorchScript = Value() }; break;
                case "--out": o = o with { OutFile = Value() }; break;
                case "--raw": o = o with { RawFile = Value() }; break;
                case "--reps": m = m with { Reps = Math.Max(MeasureOptions.MinReps, Positive(args[i], Value())) }; break;
                case "--rep-ms": m = m with { RepMs = Number(args[i], Value()) }; break;
                case "--warmup-ms": m = m with { WarmupMs = Number(args[i], Value()) }; break;
                case "--first-warmup-ms": m = m with { FirstWarmupMs = Number(args[i], Value()) }; break;
                case "--max-ms": m = m with { MaxMs = Number(args[i], Value()) }; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return o with { Measure = m };
    }

    /// <summary>The timing options as command-line arguments, passed on to child processes.</summary>
    internal IEnumerable<string> MeasureArguments()
    {
        yield return "--reps"; yield return Measure.Reps.ToString(CultureInfo.InvariantCulture);
        yield return "--rep-ms"; yield return Measure.RepMs.ToString(CultureInfo.InvariantCulture);
        yield return "--warmup-ms"; yield return Measure.WarmupMs.ToString(CultureInfo.InvariantCulture);
        yield return "--first-warmup-ms"; yield return Measure.FirstWarmupMs.ToString(CultureInfo.InvariantCulture);
        yield return "--max-ms"; yield return Measure.MaxMs.ToString(CultureInfo.InvariantCulture);
    }

    private static string[] ParseGroups(string text)
    {
        var groups = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var g in groups)
            if (!AllGroups.Contains(g)) throw new ArgumentException($"unknown group '{g}'; groups are {string.Join(", ", AllGroups)}");
        return groups;
    }

    private static int Positive(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new ArgumentException($"{name} wants a positive whole number, not '{text}'");

    private static double Number(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new ArgumentException($"{name} wants a positive number, not '{text}'");
}
