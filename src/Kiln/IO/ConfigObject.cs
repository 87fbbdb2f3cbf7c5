using System.Text.Json;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// One JSON object of a file's configuration, read field by field with every type and range
/// checked: a problem is a <see cref="KilnFormatException"/> that names the object (its
/// <see cref="Where"/>, e.g. <c>saved model 'm.kilnmodel': config.json: model.0 (Linear)</c>) and
/// the field. Duplicate keys are refused, and <see cref="Finish"/> refuses keys nothing read, so a
/// misspelt or injected field is never ignored silently.
/// </summary>
internal sealed class ConfigObject
{
    private readonly JsonElement _element;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private ConfigObject(JsonElement element, string where)
    {
        _element = element;
        Where = where;
    }

    /// <summary>What error messages call this object (a reader may make it more precise once it knows more, such as a layer's type).</summary>
    public string Where { get; set; }

    /// <summary>The object <paramref name="element"/>, or an error when it is not one or repeats a key.</summary>
    public static ConfigObject Of(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new KilnFormatException($"{where}: expected a JSON object, found {Describe(element)}");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
            if (!names.Add(property.Name))
                throw new KilnFormatException($"{where}: the key {Quote(property.Name)} appears twice");
        return new ConfigObject(element, where);
    }

    /// <summary>
    /// Parses <paramref name="json"/>, the bytes of a file's JSON entry called <paramref name="where"/>
    /// in errors, at most <paramref name="maxDepth"/> levels deep. The caller disposes the document.
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> json, string where, int maxDepth)
    {
        // The JSON reader checks UTF-8 only where it decodes, so a bad byte in a name would surface later as another exception.
        if (!System.Text.Unicode.Utf8.IsValid(json.Span)) throw new KilnFormatException($"{where} is not valid UTF-8");
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new KilnFormatException($"{where} is not valid JSON (at most {maxDepth} levels deep): {e.Message}");
        }
    }

    /// <summary>Reads "format" and "format_version", which must name <paramref name="format"/> at a version up to <paramref name="version"/>.</summary>
    public void CheckFormat(string format, int version)
    {
        var name = String("format");
        if (name != format) throw Error("format", $"is {Quote(name)}; expected \"{format}\"");
        int found = Int("format_version", 1);
        if (found > version)
            throw Error("format_version", $"is {found}; this version of Kiln reads {format} files up to version {version} (was the file written by a newer Kiln?)");
    }

    /// <summary>An error about field <paramref name="field"/> of this object.</summary>
    public KilnFormatException Error(string field, string what) => new($"{Where}: \"{field}\" {what}");

    /// <summary>An error about this object as a whole.</summary>
    public KilnFormatException Error(string what) => new($"{Where}: {what}");

    /// <summary>The object's keys, in file order.</summary>
    public IEnumerable<string> Keys => _element.EnumerateObject().Select(p => p.Name);

    /// <summary>Whether the object has the key <paramref name="name"/> (null values included).</summary>
    public bool Has(string name) => _element.TryGetProperty(name, out _);

    /// <summary>The value of <paramref name="name"/>, which must be present.</summary>
    public JsonElement Required(string name)
    {
        if (!_element.TryGetProperty(name, out var value)) throw Error($"has no \"{name}\"");
        _read.Add(name);
        return value;
    }

    /// <summary>Refuses every key that no accessor read.</summary>
    public void Finish()
    {
        foreach (var property in _element.EnumerateObject())
            if (!_read.Contains(property.Name))
                throw Error($"has the unknown key {Quote(property.Name)}");
    }

    public string String(string name)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.String) throw Error(name, $"is {Describe(value)}; expected a string");
        return value.GetString()!;
    }

    public bool Bool(string name)
    {
        var value = Required(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, $"is {Describe(value)}; expected true or false"),
        };
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int(string name, int min = int.MinValue, int max = int.MaxValue) => IntValue(Required(name), name, min, max);

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], or null.</summary>
    public int? NullableInt(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        var value = Required(name);
        return value.ValueKind == JsonValueKind.Null ? null : IntValue(value, name, min, max);
    }

    /// <summary>
    /// A number; the strings "NaN", "Infinity" and "-Infinity" stand for the values JSON numbers cannot
    /// write. With <paramref name="finite"/> only finite values are accepted.
    /// </summary>
    public double Double(string name, bool finite = true) => DoubleValue(Required(name), name, finite);

    /// <summary>A number as <see cref="Double"/> reads it, or null.</summary>
    public double? NullableDouble(string name, bool finite = true)
    {
        var value = Required(name);
        return value.ValueKind == JsonValueKind.Null ? null : DoubleValue(value, name, finite);
    }

    /// <summary>A <c>[height, width]</c> pair of integers, each at least <paramref name="min"/>.</summary>
    public Size2d Size(string name, int min)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
            throw Error(name, $"is {Describe(value)}; expected [height, width]");
        return new Size2d(IntValue(value[0], name, min, int.MaxValue), IntValue(value[1], name, min, int.MaxValue));
    }

    /// <summary>"same", or a <c>[height, width]</c> pair of integers &gt;= 0.</summary>
    public Padding Padding(string name)
    {
        var value = Required(name);
        if (value.ValueKind == JsonValueKind.String && value.ValueEquals("same")) return NN.Padding.Same;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
            throw Error(name, $"is {Describe(value)}; expected \"same\" or [height, width]");
        return new Padding(IntValue(value[0], name, 0, int.MaxValue), IntValue(value[1], name, 0, int.MaxValue));
    }

    /// <summary>An array of at most <paramref name="maxLength"/> integers, each in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int[] IntArray(string name, int min, int max, int maxLength)
    {
        var value = Array(name, maxLength);
        var result = new int[value.GetArrayLength()];
        for (int i = 0; i < result.Length; i++) result[i] = IntValue(value[i], name, min, max);
        return result;
    }

    /// <summary>An array of at most <paramref name="maxLength"/> strings.</summary>
    public string[] StringArray(string name, int maxLength)
    {
        var value = Array(name, maxLength);
        var result = new string[value.GetArrayLength()];
        for (int i = 0; i < result.Length; i++)
        {
            if (value[i].ValueKind != JsonValueKind.String) throw Error(name, $"item {i} is {Describe(value[i])}; expected a string");
            result[i] = value[i].GetString()!;
        }
        return result;
    }

    /// <summary>An array of at most <paramref name="maxLength"/> items.</summary>
    public JsonElement Array(string name, int maxLength)
    {
        var value = Required(name);
        if (value.ValueKind != JsonValueKind.Array) throw Error(name, $"is {Describe(value)}; expected an array");
        if (value.GetArrayLength() > maxLength) throw Error(name, $"has {value.GetArrayLength()} items; at most {maxLength} are accepted");
        return value;
    }

    /// <summary>The nested object <paramref name="name"/>, described as <paramref name="where"/> in its errors.</summary>
    public ConfigObject Object(string name, string where) => Of(Required(name), where);

    private int IntValue(JsonElement value, string name, int min, int max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n))
            throw Error(name, $"is {Describe(value)}; expected an integer");
        if (n < min || n > max)
            throw Error(name, max == int.MaxValue ? $"is {n}; expected an integer >= {min}" : $"is {n}; expected an integer in [{min}, {max}]");
        return (int)n;
    }

    /// <summary>The number <paramref name="value"/> (of field <paramref name="name"/>) as <see cref="Double"/> reads it.</summary>
    public double DoubleValue(JsonElement value, string name, bool finite)
    {
        double d;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetDouble(out d) || !double.IsFinite(d)) throw Error(name, $"is {Describe(value)}, which is out of range for a double");
        }
        else if (value.ValueKind == JsonValueKind.String && NonFinite(value) is { } special)
        {
            d = special;
        }
        else
        {
            throw Error(name, $"is {Describe(value)}; expected a number");
        }
        if (finite && !double.IsFinite(d)) throw Error(name, $"is {value.GetString()}; expected a finite number");
        return d;
    }

    private static double? NonFinite(JsonElement value)
        => value.ValueEquals("NaN") ? double.NaN
         : value.ValueEquals("Infinity") ? double.PositiveInfinity
         : value.ValueEquals("-Infinity") ? double.NegativeInfinity
         : null;

    /// <summary>Writes <paramref name="value"/> as a JSON number, or as the strings <see cref="Double"/> reads for NaN and infinities.</summary>
    public static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        WriteDoubleValue(writer, value);
    }

    /// <summary>Writes <paramref name="value"/> as an array item, as <see cref="WriteDouble"/> writes a field.</summary>
    public static void WriteDoubleValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    /// <summary>A string from a file, quoted for an error message: long ones are cut, so a hostile file cannot fill the message.</summary>
    public static string Quote(string text) => text.Length <= 80 ? $"\"{text}\"" : $"\"{text[..80]}...\" ({text.Length} characters)";

    /// <summary>A short description of a JSON value for an error message (its kind, and small values themselves).</summary>
    public static string Describe(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object: return "an object";
            case JsonValueKind.Array: return $"an array of {value.GetArrayLength()} items";
            case JsonValueKind.Null: return "null";
            case JsonValueKind.True: return "true";
            case JsonValueKind.False: return "false";
            case JsonValueKind.Number:
                var raw = value.GetRawText();
                return raw.Length <= 40 ? $"the number {raw}" : "a number of " + raw.Length + " digits";
            default:
                var text = value.GetString()!;
                return text.Length <= 40 ? $"the string \"{text}\"" : $"a string of {text.Length} characters";
        }
    }
}
