using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Kiln.IO;

/// <summary>One tensor of a safetensors header: offsets are relative to the byte buffer after the header.</summary>
internal readonly record struct SafetensorsEntry(string Name, DType DType, int[] Shape, long Begin, long End);

/// <summary>
/// The JSON header of a safetensors file: parsing with every check the format asks of a reader
/// (so nothing is allocated from an unchecked size), and building it for a writer.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The largest header a reader accepts (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>More dimensions than any real tensor has; it bounds the work a hostile shape can cause.</summary>
    public const int MaxRank = 1024;

    public const string MetadataKey = "__metadata__";

    public List<SafetensorsEntry> Entries { get; } = [];
    public OrderedDictionary<string, string> Metadata { get; } = new();

    // ---- dtypes ----

    public static string Code(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.UInt8 => "U8",
        DType.Int8 => "I8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors dtype"),
    };

    private static DType? FromCode(string code) => code switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "U8" => DType.UInt8,
        "I8" => DType.Int8,
        "BOOL" => DType.Bool,
        _ => null,
    };

    // The format's other dtypes: valid files that Kiln has no element type for.
    private static readonly HashSet<string> UnsupportedCodes =
    [
        "F16", "BF16", "I16", "U16", "U32", "U64", "C64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2",
    ];

    // ---- reading ----

    /// <summary>
    /// Parses and checks a header of a file whose byte buffer (after the header) is
    /// <paramref name="bufferLength"/> bytes long. Every problem is a <see cref="KilnFormatException"/>
    /// that names <paramref name="source"/>.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlyMemory<byte> json, long bufferLength, string source)
    {
        if (!Utf8.IsValid(json.Span)) throw Error(source, "the header is not valid UTF-8");
        if (json.Length == 0 || json.Span[0] != (byte)'{') throw Error(source, "the header does not start with '{' (not a JSON object)");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw Error(source, $"the header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var header = new SafetensorsHeader();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error(source, "the header is not a JSON object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw Error(source, $"the header has the key \"{property.Name}\" twice");
                if (property.Name == MetadataKey) header.ReadMetadata(property.Value, source);
                else header.Entries.Add(ReadEntry(property.Name, property.Value, source));
            }
            header.CheckLayout(bufferLength, source);
            return header;
        }
    }

    private void ReadMetadata(JsonElement value, string source)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object) throw Error(source, $"\"{MetadataKey}\" is not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Error(source, $"\"{MetadataKey}\" value \"{item.Name}\" is a {Describe(item.Value.ValueKind)}, not a string");
            if (!Metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Error(source, $"\"{MetadataKey}\" has the key \"{item.Name}\" twice");
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Error(source, $"tensor \"{name}\": the entry is a {Describe(value.ValueKind)}, not an object");
        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        foreach (var field in value.EnumerateObject())
        {
            // Fields other than these three are ignored, as a reader of a newer writer's files should.
            ref JsonElement? slot = ref dtypeValue;
            if (field.Name == "dtype") slot = ref dtypeValue;
            else if (field.Name == "shape") slot = ref shapeValue;
            else if (field.Name == "data_offsets") slot = ref offsetsValue;
            else continue;
            if (slot is not null) throw Error(source, $"tensor \"{name}\": the field \"{field.Name}\" appears twice");
            slot = field.Value;
        }
        if (dtypeValue is not { } dtypeElement) throw Error(source, $"tensor \"{name}\": no \"dtype\"");
        if (shapeValue is not { } shapeElement) throw Error(source, $"tensor \"{name}\": no \"shape\"");
        if (offsetsValue is not { } offsetsElement) throw Error(source, $"tensor \"{name}\": no \"data_offsets\"");

        if (dtypeElement.ValueKind != JsonValueKind.String) throw Error(source, $"tensor \"{name}\": \"dtype\" is not a string");
        var code = dtypeElement.GetString()!;
        var dtype = FromCode(code) ?? throw Error(source, UnsupportedCodes.Contains(code)
            ? $"tensor \"{name}\" has dtype {code}, which Kiln does not support (supported: F32, F64, I32, I64, U8, I8, BOOL)"
            : $"tensor \"{name}\" has the unknown dtype \"{code}\"");

        if (shapeElement.ValueKind != JsonValueKind.Array) throw Error(source, $"tensor \"{name}\": \"shape\" is not an array");
        int rank = shapeElement.GetArrayLength();
        if (rank > MaxRank) throw Error(source, $"tensor \"{name}\": the shape has {rank} dimensions; at most {MaxRank} are accepted");
        var shape = new int[rank];
        long elements = 1;
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
                throw Error(source, $"tensor \"{name}\": shape entry {i} is {dim.GetRawText()}, not a non-negative integer");
            if (d > int.MaxValue) throw Error(source, $"tensor \"{name}\": shape entry {i} is {d}; Kiln dimensions are at most {int.MaxValue}");
            shape[i++] = (int)d;
            // Stays exact: both factors are at most int.MaxValue once the product is capped below.
            elements = Math.Min(elements * d, (long)int.MaxValue + 1);
        }
        if (elements > int.MaxValue)
            throw Error(source, $"tensor \"{name}\" with shape {Kiln.Shape.Format(shape)} has more than {int.MaxValue} elements, the most a Kiln tensor holds");

        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw Error(source, $"tensor \"{name}\": \"data_offsets\" is not an array of two offsets");
        var begin = ReadOffset(offsetsElement[0], name, source);
        var end = ReadOffset(offsetsElement[1], name, source);
        if (end < begin) throw Error(source, $"tensor \"{name}\": data_offsets [{begin}, {end}] end before they begin");
        long bytes = elements * dtype.ElementSize();
        if (end - begin != bytes)
            throw Error(source, $"tensor \"{name}\": data_offsets [{begin}, {end}] span {end - begin} bytes, but shape {Kiln.Shape.Format(shape)} of {code} needs {bytes}");
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(JsonElement value, string name, string source)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out ulong offset))
            throw Error(source, $"tensor \"{name}\": data offset {value.GetRawText()} is not a non-negative integer");
        // Larger offsets cannot lie in any file; capping them keeps the arithmetic below in range.
        return offset > long.MaxValue / 2 ? long.MaxValue / 2 : (long)offset;
    }

    /// <summary>The tensors must tile the byte buffer exactly: sorted by offset, each starts where the previous ended.</summary>
    private void CheckLayout(long bufferLength, string source)
    {
        var order = Entries.ToArray();
        Array.Sort(order, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        foreach (var e in order)
        {
            if (e.Begin != position)
                throw Error(source, e.Begin > position
                    ? $"tensor \"{e.Name}\" begins at byte {e.Begin} of the data, leaving bytes {position}..{e.Begin} unused"
                    : $"tensor \"{e.Name}\" data_offsets [{e.Begin}, {e.End}] overlap another tensor's, which ends at {position}");
            position = e.End;
            if (position > bufferLength)
                throw Error(source, $"tensor \"{e.Name}\" data_offsets [{e.Begin}, {e.End}] run past the end of the data ({bufferLength} bytes)");
        }
        if (position != bufferLength)
            throw Error(source, $"the tensors cover {position} bytes of data but the file has {bufferLength}");
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    internal static KilnFormatException Error(string source, string what) => new($"safetensors {source}: {what}");

    // ---- writing ----

    /// <summary>
    /// The header bytes for <paramref name="entries"/>, padded with spaces so that the data starts at a
    /// multiple of 8 bytes; metadata first, then the tensors in the given order.
    /// </summary>
    public static byte[] Build(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Tensor names are data, not HTML: the relaxed encoder keeps them readable (only what JSON requires is escaped).
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var e in entries)
            {
                writer.WriteStartObject(e.Name);
                writer.WriteString("dtype", Code(e.DType));
                writer.WriteStartArray("shape");
                foreach (var d in e.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(e.Begin);
                writer.WriteNumberValue(e.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int length = (buffer.WrittenCount + 7) / 8 * 8;
        var bytes = new byte[8 + length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)length);
        buffer.WrittenSpan.CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + buffer.WrittenCount).Fill((byte)' ');
        return bytes;
    }
}
