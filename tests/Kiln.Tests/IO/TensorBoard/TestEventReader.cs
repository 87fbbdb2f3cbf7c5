using System.Buffers.Binary;
using System.Text;

namespace Kiln.Tests.IO.TensorBoard;

// An event-file reader written for the tests, independent of Kiln's writer: its own CRC-32C (bit by
// bit, no table), its own protobuf decoder, and a strict schema (from TensorBoard's event.proto,
// summary.proto, histogram.proto, tensor.proto, graph.proto, node_def.proto, attr_value.proto), so
// a field Kiln writes with a wrong number or wire type fails to decode instead of passing unseen.

internal sealed record TbEvent(double WallTime, long Step, string? FileVersion, TbGraph? Graph, IReadOnlyList<TbValue>? Summary);

internal sealed record TbValue(string Tag, float? SimpleValue, TbHistogram? Histogram, TbImage? Image, TbTensor? Tensor, string? PluginName, byte[]? PluginContent);

internal sealed record TbHistogram(double Min, double Max, double Num, double Sum, double SumSquares, double[] BucketLimits, double[] Buckets);

internal sealed record TbImage(long Height, long Width, long Colorspace, byte[] Png);

internal sealed record TbTensor(long DType, long[]? Shape, IReadOnlyList<byte[]> StringValues);

internal sealed record TbGraph(IReadOnlyList<TbNode> Nodes, long Producer);

internal sealed record TbNode(string Name, string Op, IReadOnlyList<string> Inputs, IReadOnlyDictionary<string, TbAttr> Attrs);

internal sealed record TbAttr(string? S, long? I, long? Type, IReadOnlyList<long[]>? Shapes);

internal static class TestEventReader
{
    /// <summary>The TFRecord payloads of <paramref name="data"/>, each record's two CRCs checked.</summary>
    public static List<byte[]> ReadRecords(byte[] data)
    {
        var records = new List<byte[]>();
        int pos = 0;
        while (pos < data.Length)
        {
            if (data.Length - pos < 12) throw new InvalidDataException($"truncated record header at offset {pos}");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(pos));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 8));
            if (lengthCrc != MaskedCrc32C(data.AsSpan(pos, 8))) throw new InvalidDataException($"length CRC mismatch at offset {pos}");
            if (length > (ulong)(data.Length - pos - 16)) throw new InvalidDataException($"record at offset {pos} runs past the end");
            var payload = data.AsSpan(pos + 12, (int)length);
            uint payloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 12 + (int)length));
            if (payloadCrc != MaskedCrc32C(payload)) throw new InvalidDataException($"payload CRC mismatch at offset {pos}");
            records.Add(payload.ToArray());
            pos += 16 + (int)length;
        }
        return records;
    }

    /// <summary>Every event of the file at <paramref name="path"/> (read while a writer may still hold it open).</summary>
    public static List<TbEvent> ReadFile(string path) => DecodeAll(ReadAllShared(path));

    /// <summary>Every event of an event file's bytes.</summary>
    public static List<TbEvent> DecodeAll(byte[] data) => ReadRecords(data).Select(DecodeEvent).ToList();

    public static byte[] ReadAllShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>The single event file in <paramref name="directory"/>.</summary>
    public static string SingleEventFile(string directory)
    {
        var files = Directory.GetFiles(directory).Where(f => Path.GetFileName(f).Contains("tfevents", StringComparison.Ordinal)).ToList();
        Assert.Single(files);
        return files[0];
    }

    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
    }

    public static TbEvent DecodeEvent(byte[] payload)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        TbGraph? graph = null;
        List<TbValue>? summary = null;
        int what = 0;
        foreach (var f in Proto.Parse(payload))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Fixed64): wallTime = f.AsDouble; break;
                case (2, Proto.Varint): step = (long)f.Varint; break;
                case (3, Proto.Len): fileVersion = f.AsString; what++; break;
                case (4, Proto.Len): graph = DecodeGraph(f.Bytes!); what++; break;
                case (5, Proto.Len): summary = DecodeSummary(f.Bytes!); what++; break;
                default: throw Unexpected("Event", f);
            }
        }
        if (what != 1) throw new InvalidDataException($"an Event sets {what} members of its oneof 'what'");
        return new TbEvent(wallTime, step, fileVersion, graph, summary);
    }

    private static List<TbValue> DecodeSummary(byte[] bytes)
    {
        var values = new List<TbValue>();
        foreach (var f in Proto.Parse(bytes))
        {
            if (f is not { Number: 1, WireType: Proto.Len }) throw Unexpected("Summary", f);
            values.Add(DecodeValue(f.Bytes!));
        }
        return values;
    }

    private static TbValue DecodeValue(byte[] bytes)
    {
        string? tag = null, plugin = null;
        byte[]? content = null;
        float? simple = null;
        TbHistogram? histo = null;
        TbImage? image = null;
        TbTensor? tensor = null;
        int kinds = 0;
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Len): tag = f.AsString; break;
                case (2, Proto.Fixed32): simple = f.AsFloat; kinds++; break;
                case (4, Proto.Len): image = DecodeImage(f.Bytes!); kinds++; break;
                case (5, Proto.Len): histo = DecodeHistogram(f.Bytes!); kinds++; break;
                case (8, Proto.Len): tensor = DecodeTensor(f.Bytes!); kinds++; break;
                case (9, Proto.Len): (plugin, content) = DecodeMetadata(f.Bytes!); break;
                default: throw Unexpected("Summary.Value", f);
            }
        }
        if (kinds != 1) throw new InvalidDataException($"a Summary.Value sets {kinds} members of its oneof 'value'");
        return new TbValue(tag ?? throw new InvalidDataException("a Summary.Value has no tag"), simple, histo, image, tensor, plugin, content);
    }

    private static (string? Plugin, byte[]? Content) DecodeMetadata(byte[] bytes)
    {
        string? plugin = null;
        byte[]? content = null;
        foreach (var f in Proto.Parse(bytes))
        {
            if (f is not { Number: 1, WireType: Proto.Len }) throw Unexpected("SummaryMetadata", f);
            plugin = "";
            content = [];
            foreach (var p in Proto.Parse(f.Bytes!))
            {
                switch (p.Number, p.WireType)
                {
                    case (1, Proto.Len): plugin = p.AsString; break;
                    case (2, Proto.Len): content = p.Bytes; break;
                    default: throw Unexpected("SummaryMetadata.PluginData", p);
                }
            }
        }
        return (plugin, content);
    }

    private static TbHistogram DecodeHistogram(byte[] bytes)
    {
        double min = 0, max = 0, num = 0, sum = 0, sumSquares = 0;
        var limits = new List<double>();
        var buckets = new List<double>();
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Fixed64): min = f.AsDouble; break;
                case (2, Proto.Fixed64): max = f.AsDouble; break;
                case (3, Proto.Fixed64): num = f.AsDouble; break;
                case (4, Proto.Fixed64): sum = f.AsDouble; break;
                case (5, Proto.Fixed64): sumSquares = f.AsDouble; break;
                case (6, Proto.Len): limits.AddRange(Proto.PackedDoubles(f.Bytes!)); break;
                case (7, Proto.Len): buckets.AddRange(Proto.PackedDoubles(f.Bytes!)); break;
                default: throw Unexpected("HistogramProto", f);
            }
        }
        return new TbHistogram(min, max, num, sum, sumSquares, limits.ToArray(), buckets.ToArray());
    }

    private static TbImage DecodeImage(byte[] bytes)
    {
        long height = 0, width = 0, colorspace = 0;
        byte[] png = [];
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Varint): height = (long)f.Varint; break;
                case (2, Proto.Varint): width = (long)f.Varint; break;
                case (3, Proto.Varint): colorspace = (long)f.Varint; break;
                case (4, Proto.Len): png = f.Bytes!; break;
                default: throw Unexpected("Summary.Image", f);
            }
        }
        return new TbImage(height, width, colorspace, png);
    }

    private static TbTensor DecodeTensor(byte[] bytes)
    {
        long dtype = 0;
        long[]? shape = null;
        var strings = new List<byte[]>();
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Varint): dtype = (long)f.Varint; break;
                case (2, Proto.Len): shape = DecodeShape(f.Bytes!); break;
                case (8, Proto.Len): strings.Add(f.Bytes!); break;
                default: throw Unexpected("TensorProto", f);
            }
        }
        return new TbTensor(dtype, shape, strings);
    }

    private static long[] DecodeShape(byte[] bytes)
    {
        var dims = new List<long>();
        foreach (var f in Proto.Parse(bytes))
        {
            if (f is not { Number: 2, WireType: Proto.Len }) throw Unexpected("TensorShapeProto", f);
            long size = 0;
            foreach (var d in Proto.Parse(f.Bytes!))
            {
                if (d is not { Number: 1, WireType: Proto.Varint }) throw Unexpected("TensorShapeProto.Dim", d);
                size = (long)d.Varint;
            }
            dims.Add(size);
        }
        return dims.ToArray();
    }

    private static TbGraph DecodeGraph(byte[] bytes)
    {
        var nodes = new List<TbNode>();
        long producer = 0;
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Len): nodes.Add(DecodeNode(f.Bytes!)); break;
                case (4, Proto.Len):
                    foreach (var v in Proto.Parse(f.Bytes!))
                    {
                        if (v is not { Number: 1, WireType: Proto.Varint }) throw Unexpected("VersionDef", v);
                        producer = (long)v.Varint;
                    }
                    break;
                default: throw Unexpected("GraphDef", f);
            }
        }
        return new TbGraph(nodes, producer);
    }

    private static TbNode DecodeNode(byte[] bytes)
    {
        string name = "", op = "";
        var inputs = new List<string>();
        var attrs = new Dictionary<string, TbAttr>(StringComparer.Ordinal);
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Len): name = f.AsString; break;
                case (2, Proto.Len): op = f.AsString; break;
                case (3, Proto.Len): inputs.Add(f.AsString); break;
                case (5, Proto.Len):
                    string key = "";
                    TbAttr? value = null;
                    foreach (var e in Proto.Parse(f.Bytes!))
                    {
                        switch (e.Number, e.WireType)
                        {
                            case (1, Proto.Len): key = e.AsString; break;
                            case (2, Proto.Len): value = DecodeAttr(e.Bytes!); break;
                            default: throw Unexpected("NodeDef.AttrEntry", e);
                        }
                    }
                    if (!attrs.TryAdd(key, value ?? new TbAttr(null, null, null, null))) throw new InvalidDataException($"node {name}: attr {key} twice");
                    break;
                default: throw Unexpected("NodeDef", f);
            }
        }
        return new TbNode(name, op, inputs, attrs);
    }

    private static TbAttr DecodeAttr(byte[] bytes)
    {
        string? s = null;
        long? i = null, type = null;
        List<long[]>? shapes = null;
        foreach (var f in Proto.Parse(bytes))
        {
            switch (f.Number, f.WireType)
            {
                case (1, Proto.Len):
                    shapes = [];
                    foreach (var l in Proto.Parse(f.Bytes!))
                    {
                        if (l is not { Number: 7, WireType: Proto.Len }) throw Unexpected("AttrValue.ListValue", l);
                        shapes.Add(DecodeShape(l.Bytes!));
                    }
                    break;
                case (2, Proto.Len): s = f.AsString; break;
                case (3, Proto.Varint): i = (long)f.Varint; break;
                case (6, Proto.Varint): type = (long)f.Varint; break;
                default: throw Unexpected("AttrValue", f);
            }
        }
        return new TbAttr(s, i, type, shapes);
    }

    private static InvalidDataException Unexpected(string message, Proto.Field f)
        => new($"{message}: unexpected field {f.Number} with wire type {f.WireType}");
}

/// <summary>A strict protobuf wire-format parser for the tests.</summary>
internal static class Proto
{
    public const int Varint = 0, Fixed64 = 1, Len = 2, Fixed32 = 5;

    public sealed record Field(int Number, int WireType, ulong Varint, byte[]? Bytes)
    {
        public double AsDouble => BitConverter.Int64BitsToDouble((long)Varint);
        public float AsFloat => BitConverter.Int32BitsToSingle((int)(uint)Varint);
        public string AsString => Encoding.UTF8.GetString(Bytes!);
    }

    public static List<Field> Parse(ReadOnlySpan<byte> data)
    {
        var fields = new List<Field>();
        int pos = 0;
        while (pos < data.Length)
        {
            ulong key = ReadVarint(data, ref pos);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            if (number == 0) throw new InvalidDataException("field number 0");
            switch (wire)
            {
                case Varint: fields.Add(new Field(number, wire, ReadVarint(data, ref pos), null)); break;
                case Fixed64:
                    Need(data, pos, 8);
                    fields.Add(new Field(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]), null));
                    pos += 8;
                    break;
                case Fixed32:
                    Need(data, pos, 4);
                    fields.Add(new Field(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), null));
                    pos += 4;
                    break;
                case Len:
                    ulong length = ReadVarint(data, ref pos);
                    if (length > (ulong)(data.Length - pos)) throw new InvalidDataException($"field {number}: length {length} runs past the end");
                    fields.Add(new Field(number, wire, 0, data.Slice(pos, (int)length).ToArray()));
                    pos += (int)length;
                    break;
                default: throw new InvalidDataException($"field {number}: wire type {wire} is not one this reader accepts");
            }
        }
        return fields;
    }

    public static double[] PackedDoubles(byte[] bytes)
    {
        if (bytes.Length % 8 != 0) throw new InvalidDataException($"packed doubles of {bytes.Length} bytes");
        var values = new double[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
        return values;
    }

    public static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            Need(data, pos, 1);
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }

    private static void Need(ReadOnlySpan<byte> data, int pos, int count)
    {
        if (data.Length - pos < count) throw new InvalidDataException($"truncated at offset {pos}");
    }
}
