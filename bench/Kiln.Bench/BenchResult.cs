using System.Text;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>
/// One workload measured by one implementation ("kiln" or "torch") at one thread count: the samples
/// in <see cref="Unit"/>, one per timed repetition. Written and read as one JSON line
/// (<c>{"type":"result", ...}</c>), the format bench/peers/torch_bench.py prints too.
/// </summary>
internal sealed record BenchResult(string Impl, string Group, string Name, int Threads, Unit Unit, double[] Samples, int CallsPerRep)
{
    internal double Median => Statistics.Median(Samples);
    internal double Q1 => Statistics.Quantile(Samples, 0.25);
    internal double Q3 => Statistics.Quantile(Samples, 0.75);

    internal static BenchResult From(Workload workload, string impl, int threads, Timing timing) =>
        new(impl, workload.Group, workload.Name, threads, workload.Unit,
            timing.SecondsPerCall.Select(s => workload.Unit.FromSeconds(s, workload.Flops)).ToArray(), timing.CallsPerRep);

    internal string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("type", "result");
            json.WriteString("impl", Impl);
            json.WriteString("group", Group);
            json.WriteString("name", Name);
            json.WriteNumber("threads", Threads);
            json.WriteString("unit", Unit.Label());
            json.WriteNumber("median", Median);
            json.WriteNumber("q1", Q1);
            json.WriteNumber("q3", Q3);
            json.WriteNumber("reps", Samples.Length);
            json.WriteNumber("inner", CallsPerRep);
            json.WriteStartArray("samples");
            foreach (var s in Samples) json.WriteNumberValue(s);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static BenchResult FromJson(JsonElement e) => new(
        e.GetProperty("impl").GetString()!,
        e.GetProperty("group").GetString()!,
        e.GetProperty("name").GetString()!,
        e.GetProperty("threads").GetInt32(),
        UnitInfo.Parse(e.GetProperty("unit").GetString()!),
        e.GetProperty("samples").EnumerateArray().Select(s => s.GetDouble()).ToArray(),
        e.GetProperty("inner").GetInt32());
}
