using System.Text;
using System.Text.Json;

namespace Kiln.Bench;

/// <summary>
/// The settings one benchmark process ran under (thread count, library versions, flags), printed as
/// one JSON line <c>{"type":"settings","impl":...,"threads":...,"settings":{...}}</c> before its results.
/// </summary>
internal sealed record RunSettings(string Impl, int Threads, IReadOnlyList<KeyValuePair<string, string>> Values)
{
    internal string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("type", "settings");
            json.WriteString("impl", Impl);
            json.WriteNumber("threads", Threads);
            json.WriteStartObject("settings");
            foreach (var (key, value) in Values) json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static RunSettings FromJson(JsonElement e) => new(
        e.GetProperty("impl").GetString()!,
        e.GetProperty("threads").GetInt32(),
        e.GetProperty("settings").EnumerateObject()
            .Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
            .ToList());
}
