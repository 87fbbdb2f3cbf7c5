using System.Diagnostics;
using System.Text;
using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class SafetensorsValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-safetensors-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] File(string json, int dataBytes, ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.GetBytes(headerLength ?? (ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private void AssertRefused(byte[] file, string expected)
    {
        var path = System.IO.Path.Combine(_dir, "bad.safetensors");
        System.IO.File.WriteAllBytes(path, file);
        var e = Assert.Throws<KilnFormatException>(() => Safetensors.Load(path));
        Assert.Contains($"file '{path}'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<string, string, int, string> BadHeaders => new()
    {
        { "not an object", "[1,2]", 0, "does not start with '{'" },
        { "truncated JSON", "{\"a\":", 0, "not valid JSON" },
        { "trailing garbage", "{}x", 0, "not valid JSON" },
        { "comment", "{/* hi */}", 0, "not valid JSON" },
        { "duplicate tensor", "{" + Entry("a", "U8", "[1]", 0, 1) + "," + Entry("a", "U8", "[1]", 1, 2) + "}", 2, "the key \"a\" twice" },
        { "entry not an object", "{\"a\":[1]}", 0, "tensor \"a\": the entry is a array" },
        { "missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor \"a\": no \"dtype\"" },
        { "missing shape", "{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, "tensor \"a\": no \"shape\"" },
        { "missing offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "tensor \"a\": no \"data_offsets\"" },
        { "duplicate field", "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "\"dtype\" appears twice" },
        { "dtype not a string", "{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "\"dtype\" is not a string" },
        { "unknown dtype", "{" + Entry("a", "F33", "[1]", 0, 4) + "}", 4, "unknown dtype \"F33\"" },
        { "bf16", "{" + Entry("w", "BF16", "[2]", 0, 4) + "}", 4, "tensor \"w\" has dtype BF16, which Kiln does not support" },
        { "shape not an array", "{" + Entry("a", "U8", "3", 0, 3) + "}", 3, "\"shape\" is not an array" },
        { "negative dim", "{" + Entry("a", "U8", "[-1]", 0, 0) + "}", 0, "shape entry 0 is -1" },
        { "fractional dim", "{" + Entry("a", "U8", "[1.5]", 0, 0) + "}", 0, "shape entry 0 is 1.5" },
        { "exponent dim", "{" + Entry("a", "U8", "[1e1]", 0, 10) + "}", 10, "shape entry 0 is 1e1" },
        { "string dim", "{" + Entry("a", "U8", "[\"2\"]", 0, 2) + "}", 2, "not a non-negative integer" },
        { "dim too large", "{" + Entry("a", "U8", "[3000000000]", 0, 3000000000) + "}", 0, "Kiln dimensions are at most" },
        { "too many elements", "{" + Entry("a", "F32", "[65536,65536,65536]", 0, 4) + "}", 4, "more than 2147483647 elements" },
        { "rank too large", "{" + Entry("a", "U8", "[" + string.Join(",", Enumerable.Repeat("1", 1025)) + "]", 0, 1) + "}", 1, "1025 dimensions" },
        { "one offset", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1]}}", 1, "not an array of two offsets" },
        { "negative offset", "{" + Entry("a", "U8", "[1]", -1, 0) + "}", 1, "data offset -1" },
        { "huge offset", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,18446744073709551616]}}", 1, "is not a non-negative integer" },
        { "end before begin", "{" + Entry("a", "U8", "[0]", 4, 0) + "}", 4, "end before they begin" },
        { "size mismatch", "{" + Entry("a", "F32", "[2]", 0, 4) + "}", 4, "span 4 bytes, but shape [2] of F32 needs 8" },
        { "gap at start", "{" + Entry("a", "U8", "[1]", 1, 2) + "}", 2, "begins at byte 1 of the data, leaving bytes 0..1 unused" },
        { "gap between", "{" + Entry("a", "U8", "[1]", 0, 1) + "," + Entry("b", "U8", "[1]", 2, 3) + "}", 3, "tensor \"b\" begins at byte 2" },
        { "overlap", "{" + Entry("a", "U8", "[2]", 0, 2) + "," + Entry("b", "U8", "[2]", 1, 3) + "}", 3, "overlap another tensor's" },
        { "past the end", "{" + Entry("a", "U8", "[8]", 0, 8) + "}", 4, "run past the end of the data (4 bytes)" },
        { "huge claim", "{" + Entry("a", "F64", "[200000000]", 0, 1600000000) + "}", 16, "run past the end of the data (16 bytes)" },
        { "buffer not covered", "{" + Entry("a", "U8", "[2]", 0, 2) + "}", 3, "cover 2 bytes of data but the file has 3" },
        { "metadata not an object", "{\"__metadata__\":[\"x\"]}", 0, "\"__metadata__\" is not an object of strings" },
        { "metadata number", "{\"__metadata__\":{\"epoch\":3}}", 0, "\"__metadata__\" value \"epoch\" is a number, not a string" },
        { "metadata duplicate", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "\"__metadata__\" has the key \"k\" twice" },
        { "too deep", "{\"__metadata__\":{\"k\":[[[[1]]]]}}", 0, "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Safetensors_refuses_a_malformed_header(string what, string json, int dataBytes, string expected)
    {
        Assert.NotEmpty(what);
        AssertRefused(File(json, dataBytes), expected);
    }

    [Fact]
    public void Safetensors_refuses_a_file_shorter_than_the_length_field() =>
        AssertRefused([1, 0, 0], "3 bytes is too short");

    [Fact]
    public void Safetensors_refuses_a_header_length_over_the_cap() =>
        AssertRefused(File("{}", 0, headerLength: 100_000_001), "exceeds the limit of 100000000 bytes");

    [Fact]
    public void Safetensors_refuses_a_header_length_past_the_end_of_the_file()
    {
        AssertRefused(File("{}", 0, headerLength: 3), "header length 3 exceeds the 2 bytes");
        AssertRefused(File("{}", 0, headerLength: ulong.MaxValue), "exceeds the limit");
    }

    [Fact]
    public void Safetensors_refuses_a_header_that_is_not_utf8()
    {
        var file = File("{\"a\":{}}", 0);
        file[10] = 0xff;
        AssertRefused(file, "not valid UTF-8");
    }

    [Fact]
    public void Safetensors_refuses_a_malformed_stream_naming_it()
    {
        var e = Assert.Throws<KilnFormatException>(() => Safetensors.Read(new ForwardOnlyStream(File("{" + Entry("a", "U8", "[9]", 0, 9) + "}", 2))));
        Assert.Contains("safetensors stream: tensor \"a\"", e.Message);
    }

    // Mutations of a valid file must each load or be refused with KilnFormatException: no other exception,
    // no hang, and never more tensor memory than the file has bytes.
    [Fact]
    public void Safetensors_fuzzed_files_load_or_throw_format_errors_only()
    {
        var valid = ValidFile();
        var rng = new Random(1234);
        int loaded = 0, refused = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < 3000; i++)
        {
            var bytes = Mutate(valid, rng);
            var watch = Stopwatch.StartNew();
            try
            {
                using var data = Safetensors.Read(new MemoryStream(bytes));
                long tensorBytes = data.Tensors.Values.Sum(t => (long)t.NumElements * t.DType.ElementSize());
                Assert.True(tensorBytes <= bytes.Length, $"case {i}: {tensorBytes} tensor bytes from a {bytes.Length}-byte file");
                loaded++;
            }
            catch (KilnFormatException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\nfile: {Convert.ToHexString(bytes)}");
            }
            Assert.True(watch.ElapsedMilliseconds < 1000, $"case {i} took {watch.ElapsedMilliseconds} ms");
        }
        Assert.True(loaded > 100, $"only {loaded} mutations loaded");
        Assert.True(refused > 1000, $"only {refused} mutations were refused");
        Assert.True(total.ElapsedMilliseconds < 4000, $"fuzzing took {total.ElapsedMilliseconds} ms");
    }

    private static byte[] ValidFile()
    {
        using var f = Tensor.From([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var d = Tensor.From([0.5, -0.5], 2);
        using var s = Tensor.Scalar(9, DType.Int64);
        using var b = Tensor.From([true, false, true], 3);
        using var e = Tensor.Zeros([0, 4], DType.Int32);
        using var q = Tensor.From(new sbyte[] { -3, 4 }, 2);
        var stream = new MemoryStream();
        Safetensors.Write(stream,
            [new("f", f), new("d", d), new("s", s), new("b", b), new("e", e), new("q", q)],
            new Dictionary<string, string> { ["format"] = "pt" });
        return stream.ToArray();
    }

    private static readonly string[] JsonTokens =
        ["0", "1", "8", "-1", "4294967296", "18446744073709551615", "99999999999999999999", "1e9", "0.5", "null", "true",
         "\"", "{", "}", "[", "]", ",", ":", "\"F16\"", "\"U8\"", "\"BOOL\"", "\"__metadata__\"", "\\u0000", "\\", " "];

    private static byte[] Mutate(byte[] valid, Random rng)
    {
        var bytes = (byte[])valid.Clone();
        int headerEnd = 8 + (int)BitConverter.ToUInt64(valid, 0);
        switch (rng.Next(6))
        {
            case 0: // random byte flips anywhere
                for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                return bytes;
            case 1: // random byte values inside the header
                for (int k = rng.Next(1, 3); k > 0; k--) bytes[rng.Next(8, headerEnd)] = (byte)rng.Next(256);
                return bytes;
            case 2: // truncation
                return bytes[..rng.Next(bytes.Length)];
            case 3: // header length edits
                ulong length = rng.Next(4) switch
                {
                    0 => (ulong)(headerEnd - 8 + rng.Next(-16, 17)),
                    1 => (ulong)rng.NextInt64(),
                    2 => ulong.MaxValue - (ulong)rng.Next(16),
                    _ => (ulong)rng.Next(0, bytes.Length + 8),
                };
                BitConverter.GetBytes(length).CopyTo(bytes, 0);
                return bytes;
            case 4: // replace a digit run, a quoted string or a single character in the JSON with a token
            {
                var json = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
                int at = rng.Next(json.Length);
                int end = at + 1;
                while (end < json.Length && char.IsDigit(json[at]) && char.IsDigit(json[end])) end++;
                var edited = json[..at] + JsonTokens[rng.Next(JsonTokens.Length)] + json[end..];
                var header = Encoding.UTF8.GetBytes(edited);
                // Keep the data; sometimes fix the length field so the edit reaches the JSON parser.
                var result = new byte[8 + header.Length + bytes.Length - headerEnd];
                BitConverter.GetBytes(rng.Next(4) == 0 ? (ulong)(headerEnd - 8) : (ulong)header.Length).CopyTo(result, 0);
                header.CopyTo(result, 8);
                bytes.AsSpan(headerEnd).CopyTo(result.AsSpan(8 + header.Length));
                return result;
            }
            default: // data buffer grows or shrinks
            {
                int delta = rng.Next(-8, 9);
                var result = new byte[Math.Max(headerEnd, bytes.Length + delta)];
                bytes.AsSpan(0, Math.Min(bytes.Length, result.Length)).CopyTo(result);
                return result;
            }
        }
    }
}
