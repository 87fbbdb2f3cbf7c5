using System.Buffers.Binary;
using Kiln.IO;
using Kiln.Ops;
using Kiln.Tests.Compile;

namespace Kiln.Tests.IO;

/// <summary>
/// Hostile attribute values for every registered primitive: each sample's graph is saved, one value of
/// the node's attributes is replaced by an extreme one (int.MinValue, a huge size, NaN, an unknown
/// choice...), and the file sealed again so the checksum passes. Loading must refuse it with a
/// KilnFormatException or load it; a loaded file then runs or refuses the call with an exception,
/// never a crash or a hang. So every op's shape rule stands up to any attribute a file can hold.
/// </summary>
public sealed class KilnGraphAttributeFuzzTests
{
    private static readonly long[] Integers = [0, 1, 2, -1, -2, 3, 65, 1 << 20, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1];
    private static readonly double[] Doubles = [0, -0.0, 1, -1, 1e300, -1e300, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon];

    [Fact]
    public void Every_op_refuses_or_survives_extreme_attribute_values_from_a_file()
    {
        int edited = 0, loaded = 0, refused = 0;
        foreach (var op in Kiln.Tests.Ops.AttributeFormatTests.PortableOps())
        {
            int index = 0;
            foreach (var sample in op.SamplesUntyped())
            {
                var random = new Random(op.Name.Length * 1000 + index++);
                var file = new MemoryStream();
                using (var compiled = Engine.Compile(xs => [Dispatcher.Call(op, sample.Attributes, xs)]))
                {
                    compiled.Invoke(sample.Inputs());
                    compiled.ReadPortableGraph(graph => KilnGraphWriter.Write(file, graph));
                }
                var parts = KilnFileBytes.Split(file.ToArray());
                var fields = AttributeFields(parts.Graph, op.Name);
                if (fields.Count == 0) continue;
                for (int i = 0; i < 12; i++)
                {
                    var graph = (byte[])parts.Graph.Clone();
                    Edit(graph, fields[random.Next(fields.Count)], random);
                    edited++;
                    var what = $"{op.Name} [{sample.Description}] edit {i}";
                    var bytes = (parts with { Graph = graph }).Join();
                    var function = FormatFuzz.LoadOrRefuse(() => KilnGraphFile.Read(new MemoryStream(bytes), what), bytes.Length, what, ref loaded, ref refused);
                    if (function is null) continue;
                    using (function)
                    {
                        try
                        {
                            foreach (var t in function.Invoke(sample.Inputs())) t.Dispose();
                        }
                        catch (Exception e) when (e is KilnException or ArgumentException or InvalidOperationException)
                        {
                        }
                    }
                }
            }
        }
        Assert.True(edited > 1000, $"only {edited} attribute edits were made");
        Assert.True(refused > edited / 4, $"only {refused} of {edited} edited files were refused");
    }

    private enum FieldKind { Bool, Int32, Int64, Float64, Choice }

    /// <summary>Where each value of the op's first node's attributes lies in the graph section (walking their tags).</summary>
    private static List<(int Offset, FieldKind Kind)> AttributeFields(byte[] graph, string opName)
    {
        var fields = new List<(int, FieldKind)>();
        var name = System.Text.Encoding.ASCII.GetBytes(opName);
        int at = -1;
        for (int i = 4; i + name.Length <= graph.Length; i++)
            if (BinaryPrimitives.ReadUInt32LittleEndian(graph.AsSpan(i - 4)) == name.Length && graph.AsSpan(i, name.Length).SequenceEqual(name))
            {
                at = i + name.Length;
                break;
            }
        if (at < 0) return fields;
        int length = BinaryPrimitives.ReadInt32LittleEndian(graph.AsSpan(at));
        int p = at + 4, end = p + length;
        while (p < end)
        {
            var tag = (AttributeTag)graph[p++];
            switch (tag)
            {
                case AttributeTag.Bool: fields.Add((p, FieldKind.Bool)); p += 1; break;
                case AttributeTag.Choice: fields.Add((p, FieldKind.Choice)); p += 1; break;
                case AttributeTag.Int32: fields.Add((p, FieldKind.Int32)); p += 4; break;
                case AttributeTag.Int64: fields.Add((p, FieldKind.Int64)); p += 8; break;
                case AttributeTag.Float64: fields.Add((p, FieldKind.Float64)); p += 8; break;
                case AttributeTag.Absent: break;
                case AttributeTag.IntList:
                    int count = BinaryPrimitives.ReadInt32LittleEndian(graph.AsSpan(p));
                    p += 4;
                    for (int k = 0; k < count; k++, p += 4) fields.Add((p, FieldKind.Int32));
                    break;
                default: throw new InvalidOperationException($"unknown tag {tag}");
            }
        }
        return fields;
    }

    private static void Edit(byte[] graph, (int Offset, FieldKind Kind) field, Random random)
    {
        var span = graph.AsSpan(field.Offset);
        long integer = Integers[random.Next(Integers.Length)];
        switch (field.Kind)
        {
            case FieldKind.Bool or FieldKind.Choice: span[0] = (byte)random.Next(4); break;
            case FieldKind.Int32: BinaryPrimitives.WriteInt32LittleEndian(span, (int)integer); break;
            case FieldKind.Int64: BinaryPrimitives.WriteInt64LittleEndian(span, random.Next(2) == 0 ? integer : long.MinValue); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(span, BitConverter.DoubleToInt64Bits(Doubles[random.Next(Doubles.Length)])); break;
        }
    }
}
