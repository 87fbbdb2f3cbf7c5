using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// Thousands of damaged saved models (bit flips, truncations, edited JSON, lying zip and safetensors
/// sizes, missing and repeated entries): each loads or is refused with a KilnFormatException, never
/// another exception, a hang, or an allocation far beyond the file's size.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed partial class SavedModelFuzzTests
{
    private static readonly string[] NumberReplacements =
        ["-1", "0", "1", "-0", "1.5", "1e300", "-1e300", "1e-320", "2147483647", "2147483648", "4294967297", "99999999999999999999",
         "\"x\"", "\"NaN\"", "\"Infinity\"", "null", "true", "[]", "{}", "[1,2,3]", "\"same\""];

    private static readonly string[] StringReplacements =
        ["", "same", "Linear", "Sequential", "ModuleList", "Adam", "Sgd", "System.IO.File", "0", "0.weight", "a.b", "..", "/etc/passwd",
         "none", "tanh", "float64", "int8", "kiln.saved_model", new string('x', 300)];

    private static readonly string[] EntryNames = ["config.json", "model.safetensors", "optimizer.safetensors"];

    [Fact]
    public void Damaged_saved_models_load_or_fail_with_a_format_error_within_bounds()
    {
        var original = ValidFile();
        var entries = SavedModelEntries.Read(original);
        var random = new Random(12345);
        var clock = Stopwatch.StartNew();
        int loaded = 0, refused = 0;

        for (int i = 0; i < 1200; i++) Check(FlipBits(original, random), ref loaded, ref refused, $"bit flips #{i}");
        for (int i = 0; i < 400; i++) Check(original.AsSpan(0, random.Next(original.Length)).ToArray(), ref loaded, ref refused, $"truncation #{i}");
        for (int i = 0; i < 300; i++) Check(LieAboutZipSizes(original, random), ref loaded, ref refused, $"zip sizes #{i}");
        for (int i = 0; i < 1000; i++) Check(EditConfig(entries, random), ref loaded, ref refused, $"config edit #{i}");
        var functional = SavedModelEntries.Read(Saved(SavedFunctionalModelTests.TwoTowers(), null));
        for (int i = 0; i < 500; i++) Check(EditConfig(functional, random), ref loaded, ref refused, $"functional config edit #{i}");
        for (int i = 0; i < 500; i++) Check(EditSafetensors(entries, random), ref loaded, ref refused, $"safetensors edit #{i}");
        for (int i = 0; i < 100; i++) Check(ShuffleEntries(entries, random), ref loaded, ref refused, $"entries #{i}");

        Assert.True(refused > 2500, $"only {refused} of {loaded + refused} damaged files were refused");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the fuzz run took {clock.Elapsed}");
    }

    private static void Check(byte[] file, ref int loaded, ref int refused, string what)
    {
        Optimizer? optimizer = null;
        var model = FormatFuzz.LoadOrRefuse(() => SavedModel.Load(new MemoryStream(file, writable: false), "fuzz", withOptimizer: true, out optimizer),
            file.Length, what, ref loaded, ref refused);
        optimizer?.Dispose();
        if (model is not null)
            foreach (var t in model.Parameters().Concat(model.Buffers())) t.Dispose();
    }

    /// <summary>A small model with every kind of entry: weights, int64 buffers, a frozen parameter, optimizer state.</summary>
    private static byte[] ValidFile()
    {
        Engine.ManualSeed(5);
        var first = new Linear(6, 5);
        var shared = new Linear(5, 5);
        var head = new ModuleDict([new("out", new Linear(5, 3)), new("act", new Softplus(beta: 2))]);
        var model = new Sequential(first, new BatchNorm1d(5), new Relu(), shared, new Tanh(), shared, head);
        var optimizer = new Adam(model.Parameters(), lr: 1e-2);
        using (var scope = Engine.Scope())
        {
            var features = model.Slice(0, 6).Call(Tensor.Randn([4, 6]));
            head["out"].Call(features).Sum().Backward();
            optimizer.Step();
        }
        first.Bias!.RequiresGrad = false;
        return Saved(model, optimizer);
    }

    private static byte[] Saved(Module model, Optimizer? optimizer)
    {
        var path = System.IO.Path.GetTempFileName();
        try
        {
            model.Save(path, optimizer);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] FlipBits(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        int flips = 1 + random.Next(4);
        for (int k = 0; k < flips; k++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        return bytes;
    }

    // Puts large or odd values into the size and offset fields of the zip's local and central records.
    private static byte[] LieAboutZipSizes(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        var records = new List<(int Offset, int[] Fields)>();
        for (int i = 0; i + 4 <= bytes.Length; i++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
            if (signature == 0x04034b50) records.Add((i, [18, 22, 26, 28]));           // local: sizes, name and extra lengths
            else if (signature == 0x02014b50) records.Add((i, [20, 24, 28, 30, 42])); // central: sizes, lengths, local offset
            else if (signature == 0x06054b50) records.Add((i, [8, 10, 12, 16]));      // end: counts, directory size and offset
        }
        uint[] values = [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFF, (uint)bytes.Length, (uint)bytes.Length + 1, 0x10000000];
        int edits = 1 + random.Next(2);
        for (int k = 0; k < edits; k++)
        {
            var (offset, fields) = records[random.Next(records.Count)];
            int field = offset + fields[random.Next(fields.Length)];
            uint value = values[random.Next(values.Length)];
            if (field + 4 <= bytes.Length && random.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(field), value);
            else if (field + 2 <= bytes.Length) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(field), (ushort)value);
        }
        return bytes;
    }

    private static byte[] EditConfig(List<(string Name, byte[] Bytes)> entries, Random random)
    {
        var json = Encoding.UTF8.GetString(entries[0].Bytes);
        int edits = 1 + random.Next(2);
        for (int k = 0; k < edits; k++) json = EditJson(json, random);
        return SavedModelEntries.Write(entries.Select((e, i) => i == 0 ? (e.Name, Encoding.UTF8.GetBytes(json)) : e));
    }

    private static string EditJson(string json, Random random)
    {
        switch (random.Next(6))
        {
            case 0 or 1:
            {
                var numbers = NumberLiteral().Matches(json);
                if (numbers.Count == 0) return json;
                var m = numbers[random.Next(numbers.Count)];
                return json[..m.Index] + NumberReplacements[random.Next(NumberReplacements.Length)] + json[(m.Index + m.Length)..];
            }
            case 2:
            {
                var strings = StringLiteral().Matches(json);
                var m = strings[random.Next(strings.Count)];
                return json[..m.Index] + "\"" + StringReplacements[random.Next(StringReplacements.Length)] + "\"" + json[(m.Index + m.Length)..];
            }
            case 3:
            {
                // Drops a "key": value line, or repeats one.
                var lines = json.Split('\n').ToList();
                int i = random.Next(lines.Count);
                if (random.Next(2) == 0) lines.RemoveAt(i);
                else lines.Insert(i, lines[i]);
                return string.Join('\n', lines);
            }
            case 4:
            {
                // Nests a value deeply, past the reader's depth limit or within it.
                var numbers = NumberLiteral().Matches(json);
                var m = numbers[random.Next(numbers.Count)];
                int depth = random.Next(2) == 0 ? 50 : 5000;
                return json[..m.Index] + new string('[', depth) + "1" + new string(']', depth) + json[(m.Index + m.Length)..];
            }
            default:
            {
                int cut = random.Next(json.Length);
                return random.Next(2) == 0 ? json[..cut] : json[..cut] + "}" + json[cut..];
            }
        }
    }

    private static byte[] EditSafetensors(List<(string Name, byte[] Bytes)> entries, Random random)
    {
        int which = 1 + random.Next(entries.Count - 1);
        var file = (byte[])entries[which].Bytes.Clone();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        switch (random.Next(4))
        {
            case 0:
            {
                // Edits the header JSON in place (keeping its length), so the sizes it declares are what changes.
                var header = Encoding.UTF8.GetString(file, 8, headerLength);
                var numbers = NumberLiteral().Matches(header);
                var m = numbers[random.Next(numbers.Count)];
                var replacement = random.Next(3) switch { 0 => "9", 1 => "0", _ => new string('9', m.Length) };
                replacement = replacement.Length > m.Length ? replacement[..m.Length] : replacement.PadLeft(m.Length, ' ');
                var edited = header[..m.Index] + replacement + header[(m.Index + m.Length)..];
                Encoding.UTF8.GetBytes(edited).CopyTo(file, 8);
                break;
            }
            case 1:
            {
                ulong[] lengths = [0, 7, ulong.MaxValue, 100_000_001, (ulong)file.Length, (ulong)headerLength + 1, (ulong)headerLength - 1];
                BinaryPrimitives.WriteUInt64LittleEndian(file, lengths[random.Next(lengths.Length)]);
                break;
            }
            case 2:
            {
                var header = Encoding.UTF8.GetString(file, 8, headerLength);
                string[] dtypes = ["\"F64\"", "\"I64\"", "\"BOOL\"", "\"U8\" ", "\"BF16\""];
                var m = Regex.Match(header, "\"(F32|I64)\"");
                if (m.Success)
                {
                    var replacement = dtypes[random.Next(dtypes.Length)];
                    replacement = replacement.Length > m.Length ? replacement[..m.Length] : replacement.PadRight(m.Length, ' ');
                    Encoding.UTF8.GetBytes(header[..m.Index] + replacement + header[(m.Index + m.Length)..]).CopyTo(file, 8);
                }
                break;
            }
            default:
                file = file.AsSpan(0, random.Next(file.Length)).ToArray();
                break;
        }
        return SavedModelEntries.Write(entries.Select((e, i) => i == which ? (e.Name, file) : e));
    }

    private static byte[] ShuffleEntries(List<(string Name, byte[] Bytes)> entries, Random random)
    {
        var list = entries.ToList();
        switch (random.Next(4))
        {
            case 0: list.RemoveAt(random.Next(list.Count)); break;
            case 1: list.Add(list[random.Next(list.Count)]); break;
            case 2:
                int i = random.Next(list.Count);
                list[i] = (EntryNames[random.Next(EntryNames.Length)], list[i].Bytes);
                break;
            default: list.Add(("../../evil.json", Encoding.UTF8.GetBytes("{}"))); break;
        }
        return SavedModelEntries.Write(list);
    }

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][+-]?\d+)?")]
    private static partial Regex NumberLiteral();

    [GeneratedRegex("\"[^\"\\n]*\"")]
    private static partial Regex StringLiteral();
}
