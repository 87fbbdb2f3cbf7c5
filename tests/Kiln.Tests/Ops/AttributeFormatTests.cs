using Kiln.Ops;

namespace Kiln.Tests.Ops;

/// <summary>
/// Every registered primitive's attribute records, from its conformance samples (valid and invalid
/// ones), written as a .kiln file writes them and read back through the op: equal records, the same
/// bytes again, and every shortened or lengthened byte string refused with a KilnFormatException.
/// An op whose attribute record has no file form fails here, unless it is one only lowering passes
/// create (<see cref="OpDef.IsPortable"/> false), which a file never holds.
/// </summary>
public sealed class AttributeFormatTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in PortableOps())
            for (int i = 0; i < op.SamplesUntyped().Count(); i++) data.Add(op.Name, i);
        return data;
    }

    internal static IEnumerable<OpDef> PortableOps() => OpRegistry.All.Where(op => op.IsPortable);

    private static byte[] Bytes(OpAttributes attributes)
    {
        var writer = new AttributeWriter();
        attributes.Write(writer);
        return writer.ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sample_attributes_round_trip_through_their_file_form(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var attributes = op.SamplesUntyped().ElementAt(sampleIndex).Attributes;
        var bytes = Bytes(attributes);
        var read = op.ReadAttributesUntyped(new AttributeReader(bytes, "test"));
        Assert.Equal(attributes, read);
        Assert.Equal(bytes, Bytes(read));
    }

    [Fact]
    public void Attributes_of_invalid_samples_round_trip_or_are_refused_by_their_range_checks()
    {
        foreach (var op in PortableOps())
            foreach (var sample in op.InvalidSamplesUntyped())
            {
                OpAttributes read;
                try
                {
                    read = op.ReadAttributesUntyped(new AttributeReader(Bytes(sample.Attributes), op.Name));
                }
                catch (KilnFormatException e)
                {
                    Assert.StartsWith($"{op.Name}: attribute \"", e.Message);
                    continue;
                }
                Assert.True(sample.Attributes.Equals(read), $"{op.Name} [{sample.Description}]: {sample.Attributes} read back as {read}");
            }
    }

    [Fact]
    public void Cut_or_extended_attribute_bytes_are_refused_with_a_format_error()
    {
        foreach (var op in PortableOps())
            foreach (var attributes in op.SamplesUntyped().Select(s => s.Attributes).Distinct())
            {
                var bytes = Bytes(attributes);
                for (int n = 0; n < bytes.Length; n++)
                    Assert.Throws<KilnFormatException>(() => op.ReadAttributesUntyped(new AttributeReader(bytes.AsMemory(0, n), op.Name)));
                var e = Assert.Throws<KilnFormatException>(() => op.ReadAttributesUntyped(new AttributeReader(bytes.Append((byte)1).ToArray(), $"node %0 ({op.Name})")));
                Assert.Contains($"node %0 ({op.Name}): the attributes hold 1 bytes more than the op reads", e.Message);
            }
    }

    [Fact]
    public void Doubles_keep_their_exact_bits_and_lists_their_bounds()
    {
        var fill = new FillOp.Attributes(BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234));
        var read = (FillOp.Attributes)FillOp.Instance.ReadAttributesUntyped(new AttributeReader(Bytes(fill), "fill"));
        Assert.Equal(0x7FF8_0000_0000_1234, BitConverter.DoubleToInt64Bits(read.Value));
        Assert.Equal(double.NegativeZero, ((FillOp.Attributes)FillOp.Instance.ReadAttributesUntyped(new AttributeReader(Bytes(new FillOp.Attributes(-0.0)), "fill"))).Value);

        var writer = new AttributeWriter();
        writer.Ints(new IntList(new int[AttributeReader.MaxListLength + 1]));
        var e = Assert.Throws<KilnFormatException>(() => ReshapeOp.Instance.ReadAttributesUntyped(new AttributeReader(writer.ToArray(), "node %2 (Reshape)")));
        Assert.Equal("node %2 (Reshape): attribute \"shape\" declares 65 values; at most 64 are accepted", e.Message);
    }

    [Fact]
    public void Range_checks_name_the_field()
    {
        var writer = new AttributeWriter();
        writer.Float64(-1);
        var e = Assert.Throws<KilnFormatException>(() => BatchNormOp.Instance.ReadAttributesUntyped(new AttributeReader(writer.ToArray(), "node %4 (BatchNorm)")));
        Assert.StartsWith("node %4 (BatchNorm): attribute \"eps\" is -1; expected a number from 0 to", e.Message);

        writer = new AttributeWriter();
        writer.Choice(9);
        e = Assert.Throws<KilnFormatException>(() => CastOp.Instance.ReadAttributesUntyped(new AttributeReader(writer.ToArray(), "node %1 (Cast)")));
        Assert.Equal("node %1 (Cast): attribute \"to\" is choice 9; expected one of 0..6", e.Message);
    }
}
