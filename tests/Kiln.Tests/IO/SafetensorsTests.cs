using System.Text;
using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static SafetensorsData RoundTrip(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var stream = new MemoryStream();
        Safetensors.Write(stream, tensors, metadata);
        stream.Position = 0;
        return Safetensors.Read(stream);
    }

    private static KeyValuePair<string, Tensor> Pair(string name, Tensor t) => new(name, t);

    [Fact]
    public void Safetensors_round_trips_every_dtype_bit_exactly()
    {
        using var f32 = Tensor.From([1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, -3e38f], 2, 3);
        using var f64 = Tensor.From([Math.PI, -0.0, double.NegativeInfinity, double.MaxValue], 4);
        using var i32 = Tensor.From([int.MinValue, -1, 0, int.MaxValue], 2, 2);
        using var i64 = Tensor.From([long.MinValue, 42L, long.MaxValue], 3);
        using var u8 = Tensor.From(new byte[] { 0, 127, 255 }, 3);
        using var i8 = Tensor.From(new sbyte[] { -128, 0, 127 }, 1, 3);
        using var b = Tensor.From([true, false, true, true], 2, 2);

        using var data = RoundTrip([Pair("f32", f32), Pair("f64", f64), Pair("i32", i32), Pair("i64", i64), Pair("u8", u8), Pair("i8", i8), Pair("bool", b)]);

        Assert.Equal(["f32", "f64", "i32", "i64", "u8", "i8", "bool"], data.Tensors.Keys);
        var t = data.Tensors;
        Assert.Equal([2, 3], t["f32"].Shape.Dims.ToArray());
        Assert.Equal(DType.Float32, t["f32"].DType);
        Assert.Equal(new[] { 1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, -3e38f }.Select(BitConverter.SingleToInt32Bits),
            t["f32"].ToArray<float>().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(new[] { Math.PI, -0.0, double.NegativeInfinity, double.MaxValue }.Select(BitConverter.DoubleToInt64Bits),
            t["f64"].ToArray<double>().Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal([int.MinValue, -1, 0, int.MaxValue], t["i32"].ToArray<int>());
        Assert.Equal([long.MinValue, 42L, long.MaxValue], t["i64"].ToArray<long>());
        Assert.Equal(new byte[] { 0, 127, 255 }, t["u8"].ToArray<byte>());
        Assert.Equal(new sbyte[] { -128, 0, 127 }, t["i8"].ToArray<sbyte>());
        Assert.Equal([1, 3], t["i8"].Shape.Dims.ToArray());
        Assert.Equal([true, false, true, true], t["bool"].ToArray<bool>());
        Assert.Equal(DType.Bool, t["bool"].DType);
        Assert.Empty(data.Metadata);
    }

    [Fact]
    public void Safetensors_round_trips_empty_tensors_scalars_and_metadata()
    {
        using var empty = Tensor.Zeros([0, 5]);
        using var emptyInt = Tensor.Zeros([3, 0], DType.Int64);
        using var scalar = Tensor.Scalar(7.25, DType.Float64);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\" <tag>", ["empty"] = "" };

        using var data = RoundTrip([Pair("empty", empty), Pair("scalar", scalar), Pair("emptyInt", emptyInt)], metadata);

        Assert.Equal([0, 5], data.Tensors["empty"].Shape.Dims.ToArray());
        Assert.Equal([3, 0], data.Tensors["emptyInt"].Shape.Dims.ToArray());
        Assert.Equal(DType.Int64, data.Tensors["emptyInt"].DType);
        Assert.Equal(0, data.Tensors["scalar"].Rank);
        Assert.Equal(7.25, data.Tensors["scalar"].Item<double>());
        Assert.Equal(metadata.OrderBy(kv => kv.Key), data.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void Safetensors_writes_non_contiguous_tensors_in_row_major_order()
    {
        using var m = Tensor.From([1, 2, 3, 4, 5, 6], 2, 3);
        using var transposed = m.T;
        using var sliced = m.Slice(1, 0, 3, 2);
        Assert.False(transposed.IsContiguous);
        Assert.False(sliced.IsContiguous);

        using var data = RoundTrip([Pair("t", transposed), Pair("s", sliced)]);

        Assert.Equal([3, 2], data.Tensors["t"].Shape.Dims.ToArray());
        Assert.Equal([1, 4, 2, 5, 3, 6], data.Tensors["t"].ToArray<int>());
        Assert.Equal([1, 3, 4, 6], data.Tensors["s"].ToArray<int>());
    }

    [Fact]
    public void Safetensors_writes_the_bytes_the_format_specifies()
    {
        using var a = Tensor.From([1f, -2f], 2);
        using var b = Tensor.Scalar(3, DType.Int64);
        var stream = new MemoryStream();
        Safetensors.Write(stream, [Pair("a", a), Pair("b", b)]);

        // Written by hand from the spec: u64 LE header length (107 bytes of JSON padded with spaces to 112 = 0x70),
        // compact JSON in the caller's order, then F32 1, -2 and I64 3, little-endian.
        var expected = Concat(
            Hex("70 00 00 00 00 00 00 00"),
            Encoding.ASCII.GetBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}""" + "     "),
            Hex("0000803f 000000c0"),
            Hex("03000000 00000000"));
        Assert.Equal(expected, stream.ToArray());
    }

    [Fact]
    public void Safetensors_writes_metadata_first_in_the_header()
    {
        using var a = Tensor.From([1f], 1);
        var stream = new MemoryStream();
        Safetensors.Write(stream, [Pair("a", a)], new Dictionary<string, string> { ["format"] = "pt" });

        var json = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        int padded = (json.Length + 7) / 8 * 8;
        var expected = Concat(BitConverter.GetBytes((ulong)padded), Encoding.ASCII.GetBytes(json.PadRight(padded)), Hex("0000803f"));
        Assert.Equal(expected, stream.ToArray());
    }

    // The Python safetensors package is not installed on this machine (and PyPI is not reachable), so this
    // is the file it writes for {"count": int64 scalar 5, "w": float32 [[1,2],[3,4]], "e": uint8 [0,3],
    // "mask": bool [1,0,1], "q": int8 [-1,2]} with metadata {"format":"pt"}, written by hand from the spec
    // and the reference writer's conventions: compact JSON with __metadata__ first, tensors ordered by
    // descending alignment then name, header padded with spaces to a multiple of 8 (313 -> 320 = 0x140).
    private static byte[] ReferenceFile() => Concat(
        Hex("40 01 00 00 00 00 00 00"),
        Encoding.ASCII.GetBytes(
            """{"__metadata__":{"format":"pt"},"count":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},"e":{"dtype":"U8","shape":[0,3],"data_offsets":[24,24]},"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]},"q":{"dtype":"I8","shape":[2],"data_offsets":[27,29]}}"""
            + "       "),
        Hex("05000000 00000000"),
        Hex("0000803f 00000040 00004040 00008040"),
        Hex("01 00 01"),
        Hex("ff 02"));

    [Fact]
    public void Safetensors_reads_a_file_in_the_reference_writers_layout()
    {
        var path = PathOf("reference.safetensors");
        File.WriteAllBytes(path, ReferenceFile());

        using var data = Safetensors.Load(path);

        Assert.Equal(["count", "w", "e", "mask", "q"], data.Tensors.Keys);
        Assert.Equal("pt", data.Metadata["format"]);
        Assert.Equal(5L, data.Tensors["count"].Item<long>());
        Assert.Equal(0, data.Tensors["count"].Rank);
        Assert.Equal([1f, 2f, 3f, 4f], data.Tensors["w"].ToArray<float>());
        Assert.Equal([2, 2], data.Tensors["w"].Shape.Dims.ToArray());
        Assert.Equal([0, 3], data.Tensors["e"].Shape.Dims.ToArray());
        Assert.Equal(DType.UInt8, data.Tensors["e"].DType);
        Assert.Equal([true, false, true], data.Tensors["mask"].ToArray<bool>());
        Assert.Equal(new sbyte[] { -1, 2 }, data.Tensors["q"].ToArray<sbyte>());
    }

    [Fact]
    public void Safetensors_reads_a_header_listed_out_of_offset_order_with_whitespace()
    {
        // The spec orders tensors by data_offsets, not by their place in the JSON; any JSON whitespace is allowed.
        var json = "{\n  \"late\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [4, 8]},\n  \"early\": {\"shape\": [1], \"dtype\": \"I32\", \"data_offsets\": [0, 4]}\n}";
        var file = Concat(BitConverter.GetBytes((ulong)json.Length), Encoding.ASCII.GetBytes(json), Hex("0a000000 14000000"));

        using var data = Safetensors.Read(new MemoryStream(file));

        Assert.Equal(["late", "early"], data.Tensors.Keys);
        Assert.Equal(20, data.Tensors["late"].Item<int>());
        Assert.Equal(10, data.Tensors["early"].Item<int>());
    }

    [Fact]
    public void Safetensors_reads_bool_bytes_other_than_one_as_true()
    {
        var json = """{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}""";
        var file = Concat(BitConverter.GetBytes((ulong)json.Length), Encoding.ASCII.GetBytes(json), Hex("00 02 ff"));

        using var data = Safetensors.Read(new MemoryStream(file));

        var values = data.Tensors["m"].ToArray<bool>();
        Assert.Equal([false, true, true], values);
        Assert.Equal(new byte[] { 0, 1, 1 }, values.Select(v => Unsafe(v)).ToArray());

        static byte Unsafe(bool v) => System.Runtime.CompilerServices.Unsafe.As<bool, byte>(ref v);
    }

    [Fact]
    public void Safetensors_reads_from_a_stream_that_cannot_seek()
    {
        using var data = Safetensors.Read(new ForwardOnlyStream(ReferenceFile()));
        Assert.Equal([1f, 2f, 3f, 4f], data.Tensors["w"].ToArray<float>());
    }

    [Fact]
    public void Safetensors_load_gives_tensors_owned_by_the_caller()
    {
        var path = PathOf("owned.safetensors");
        File.WriteAllBytes(path, ReferenceFile());
        SafetensorsData data;
        using (Engine.Scope()) data = Safetensors.Load(path);

        Assert.All(data.Tensors.Values, t => Assert.False(t.IsDisposed));
        Assert.Equal([1f, 2f, 3f, 4f], data.Tensors["w"].ToArray<float>());
        data.Dispose();
        Assert.All(data.Tensors.Values, t => Assert.True(t.IsDisposed));
    }

    [Fact]
    public void Safetensors_save_then_load_round_trips_through_a_file()
    {
        var path = PathOf("model.safetensors");
        using var w = Tensor.From([0.5f, 1.5f, 2.5f, 3.5f], 2, 2);
        Safetensors.Save(path, [Pair("w", w)], new Dictionary<string, string> { ["epoch"] = "3" });
        Safetensors.Save(path, [Pair("w", w), Pair("w2", w)]);

        using var data = Safetensors.Load(path);

        Assert.Equal(["w", "w2"], data.Tensors.Keys);
        Assert.Equal([0.5f, 1.5f, 2.5f, 3.5f], data.Tensors["w2"].ToArray<float>());
        Assert.Empty(data.Metadata);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir).Select(System.IO.Path.GetFileName));
    }

    [Fact]
    public void Safetensors_refuses_duplicate_reserved_null_and_disposed_names_when_writing()
    {
        using var a = Tensor.From([1f], 1);
        var disposed = Tensor.From([1f], 1);
        disposed.Dispose();
        var stream = new MemoryStream();

        Assert.Contains("\"a\" appears twice", Assert.Throws<ArgumentException>(() => Safetensors.Write(stream, [Pair("a", a), Pair("a", a)])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => Safetensors.Write(stream, [Pair("__metadata__", a)])).Message);
        Assert.Contains("\"d\" was disposed", Assert.Throws<ArgumentException>(() => Safetensors.Write(stream, [Pair("d", disposed)])).Message);
        Assert.Throws<ArgumentException>(() => Safetensors.Write(stream, [Pair("n", null!)]));
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void Safetensors_refuses_an_unsupported_dtype_naming_the_tensor_and_dtype()
    {
        var json = """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""";
        var path = PathOf("half.safetensors");
        File.WriteAllBytes(path, Concat(BitConverter.GetBytes((ulong)json.Length), Encoding.ASCII.GetBytes(json), Hex("003c 0040")));

        var e = Assert.Throws<KilnFormatException>(() => Safetensors.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("tensor \"h\" has dtype F16, which Kiln does not support", e.Message);
    }
}

/// <summary>A read-only stream that cannot seek and reports no length (a network stream, a pipe).</summary>
internal sealed class ForwardOnlyStream(byte[] data) : Stream
{
    private readonly MemoryStream _inner = new(data);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
