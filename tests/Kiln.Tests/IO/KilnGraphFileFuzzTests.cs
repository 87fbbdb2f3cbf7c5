using System.Buffers.Binary;
using System.Diagnostics;
using Kiln.Compile;
using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Compile;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// Thousands of damaged .kiln files: bit flips and truncations (caught by the checksum), and the same
/// damage with the checksum made to match, so every check behind it is reached (flipped and rewritten
/// counts, ids, names, specs and attributes, inserted and deleted bytes, lying section lengths, edited
/// weights). Each loads or is refused with a KilnFormatException, never another exception, a hang, or
/// an allocation far beyond the file's size; a damaged file that loads runs without crashing.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class KilnGraphFileFuzzTests
{
    private static readonly uint[] Values = [0, 1, 2, 3, 7, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 100_000_000];

    [Fact]
    public void Damaged_kiln_files_load_or_fail_with_a_format_error_within_bounds()
    {
        var (original, input) = ValidFile();
        var parts = KilnFileBytes.Split(original);
        var random = new Random(2026);
        var clock = Stopwatch.StartNew();
        int loaded = 0, refused = 0;

        for (int i = 0; i < 500; i++) Check(FlipBits(original, 0, original.Length, random), input, ref loaded, ref refused, $"bit flips #{i}");
        for (int i = 0; i < 200; i++) Check(original.AsSpan(0, random.Next(original.Length)).ToArray(), input, ref loaded, ref refused, $"truncation #{i}");
        for (int i = 0; i < 1500; i++)
            Check((parts with { Graph = FlipBits(parts.Graph, 0, parts.Graph.Length, random) }).Join(), input, ref loaded, ref refused, $"graph bit flips #{i}");
        for (int i = 0; i < 800; i++)
            Check((parts with { Graph = WriteNumber(parts.Graph, random) }).Join(), input, ref loaded, ref refused, $"graph numbers #{i}");
        for (int i = 0; i < 400; i++)
            Check((parts with { Graph = InsertOrDelete(parts.Graph, random) }).Join(), input, ref loaded, ref refused, $"graph bytes #{i}");
        for (int i = 0; i < 500; i++)
            Check((parts with { Weights = FlipBits(parts.Weights, 0, Math.Min(parts.Weights.Length, 400), random) }).Join(), input, ref loaded, ref refused, $"weights header #{i}");
        for (int i = 0; i < 300; i++) Check(EditHeader(original, random), input, ref loaded, ref refused, $"header #{i}");
        for (int i = 0; i < 100; i++)
            Check((parts with { Graph = parts.Graph.Concat(new byte[random.Next(1, 40)]).ToArray() }).Join(), input, ref loaded, ref refused, $"graph tail #{i}");

        Assert.True(refused > 3500, $"only {refused} of {loaded + refused} damaged files were refused");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the fuzz run took {clock.Elapsed}");
    }

    private static void Check(byte[] file, Tensor input, ref int loaded, ref int refused, string what)
    {
        var function = FormatFuzz.LoadOrRefuse(() => KilnGraphFile.Read(new MemoryStream(file, writable: false), "fuzz"), file.Length, what, ref loaded, ref refused);
        if (function is null) return;
        using (function)
        {
            // A file that passed every check runs, or refuses the call with an exception (a wrong
            // input signature, an index out of range in edited weights): never a crash.
            try
            {
                foreach (var t in function.Invoke(input)) t.Dispose();
            }
            catch (Exception e) when (e is KilnException or ArgumentException)
            {
            }
        }
    }

    /// <summary>A small CNN (parameters, batch-norm buffers read live) inside a function with captured constants.</summary>
    private static (byte[] File, Tensor Input) ValidFile()
    {
        Engine.ManualSeed(77);
        var model = new Sequential(new Conv2d(1, 3, kernelSize: 3, padding: 1), new BatchNorm2d(3), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(12, 4));
        model.Eval();
        var scale = CompileAssert.Uniform(3, 1, 4);
        var input = CompileAssert.Uniform(4, 2, 1, 4, 4);
        using var compiled = Engine.Compile(m => (model.Call(m) * scale).Softmax(1).Clamp(0.01, 0.99).Sum([1], keepDim: true));
        compiled.Call(input);
        var stream = new MemoryStream();
        compiled.ReadPortableGraph(graph => KilnGraphWriter.Write(stream, graph));
        return (stream.ToArray(), input);
    }

    private static byte[] FlipBits(byte[] original, int from, int to, Random random)
    {
        var bytes = (byte[])original.Clone();
        int flips = 1 + random.Next(3);
        for (int k = 0; k < flips; k++) bytes[random.Next(from, to)] ^= (byte)(1 << random.Next(8));
        return bytes;
    }

    // Counts, ids, lengths, dims and attribute values are little-endian numbers: put odd values anywhere.
    private static byte[] WriteNumber(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        int at = random.Next(bytes.Length - 3);
        uint value = Values[random.Next(Values.Length)];
        if (random.Next(3) == 0) bytes[at] = (byte)value;
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
        return bytes;
    }

    private static byte[] InsertOrDelete(byte[] original, Random random)
    {
        var list = original.ToList();
        int at = random.Next(list.Count);
        int n = 1 + random.Next(8);
        if (random.Next(2) == 0) list.RemoveRange(at, Math.Min(n, list.Count - at));
        else list.InsertRange(at, Enumerable.Range(0, n).Select(_ => (byte)random.Next(256)));
        return list.ToArray();
    }

    // The fixed header: version, flags and section lengths, then a matching checksum.
    private static byte[] EditHeader(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        int field = new[] { 8, 12, 16, 20, 24, 28 }[random.Next(6)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(field), Values[random.Next(Values.Length)]);
        return KilnFileBytes.Reseal(bytes);
    }
}
