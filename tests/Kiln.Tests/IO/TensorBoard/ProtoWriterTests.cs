using Kiln.IO;

namespace Kiln.Tests.IO.TensorBoard;

public sealed class ProtoWriterTests
{
    [Fact]
    public void ProtoWriter_encodes_varints_fixed_and_length_delimited_fields_byte_exactly()
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, 300);
        w.WriteInt64(2, -1);
        w.WriteDouble(3, 1.5);
        w.WriteFloat(4, -2f);
        w.WriteString(5, "hé");
        w.WriteBool(16, true);
        Assert.Equal(Convert.FromHexString(
            "08AC02" +
            "10FFFFFFFFFFFFFFFFFF01" +
            "19000000000000F83F" +
            "25000000C0" +
            "2A0368C3A9" +
            "800101"), w.ToArray());
    }

    [Fact]
    public void ProtoWriter_packs_doubles_and_nests_messages_as_the_test_decoder_reads_them()
    {
        var inner = new ProtoWriter();
        inner.WritePackedDoubles(6, [1.0, -0.5, double.MaxValue]);
        inner.WritePackedDoubles(7, []);
        var outer = new ProtoWriter(1);
        outer.WriteMessage(5, inner);
        outer.WriteBytes(9, new byte[1000]);

        var fields = Proto.Parse(outer.ToArray());
        Assert.Equal([5, 9], fields.Select(f => f.Number));
        var packed = Assert.Single(Proto.Parse(fields[0].Bytes));
        Assert.Equal((6, Proto.Len), (packed.Number, packed.WireType));
        Assert.Equal([1.0, -0.5, double.MaxValue], Proto.PackedDoubles(packed.Bytes!));
        Assert.Equal(1000, fields[1].Bytes!.Length);
    }

    [Fact]
    public void ProtoWriter_refuses_field_numbers_outside_the_protobuf_range()
    {
        var w = new ProtoWriter();
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteInt64(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteInt64(1 << 29, 1));
    }
}
