using System.Buffers.Binary;
using System.Text;

namespace Kiln.IO;

/// <summary>
/// A minimal protobuf (proto3 wire format) encoder: varints, fixed64/fixed32, length-delimited
/// fields and packed doubles, appended to a growable buffer. It is written by hand rather than
/// taken from Google.Protobuf because Kiln writes only a handful of messages (TensorBoard events,
/// later ONNX), and the standalone runtime must stay small and free of reflection and generated
/// code. Callers write fields in field-number order and leave out proto3 defaults themselves,
/// except for members of a oneof, which are always written. A nested message is encoded into its
/// own writer and added with <see cref="WriteMessage"/>.
/// </summary>
internal sealed class ProtoWriter
{
    /// <summary>The wire types this encoder writes.</summary>
    internal enum WireType
    {
        Varint = 0,
        Fixed64 = 1,
        LengthDelimited = 2,
        Fixed32 = 5,
    }

    private byte[] _buffer;
    private int _length;

    public ProtoWriter(int capacity = 64) => _buffer = new byte[Math.Max(capacity, 16)];

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>The number of bytes written so far.</summary>
    public int Length => _length;

    /// <summary>A copy of the bytes written.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>A field key: <c>(field &lt;&lt; 3) | wire type</c> as a varint.</summary>
    public void WriteTag(int field, WireType type)
    {
        if (field < 1 || field > 536_870_911) throw new ArgumentOutOfRangeException(nameof(field), field, "protobuf field numbers are 1 to 2^29-1");
        WriteVarint(((ulong)(uint)field << 3) | (uint)type);
    }

    /// <summary>A base-128 varint, low groups first.</summary>
    public void WriteVarint(ulong value)
    {
        var span = Reserve(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _length += n;
    }

    /// <summary>An int64 (or int32, or enum) field; negative values take ten bytes, as protobuf sign-extends them.</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint((ulong)value);
    }

    /// <summary>A bool field.</summary>
    public void WriteBool(int field, bool value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value ? 1UL : 0UL);
    }

    /// <summary>A double field (fixed64, little-endian IEEE 754).</summary>
    public void WriteDouble(int field, double value)
    {
        WriteTag(field, WireType.Fixed64);
        BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);
        _length += 8;
    }

    /// <summary>A float field (fixed32, little-endian IEEE 754).</summary>
    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireType.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
        _length += 4;
    }

    /// <summary>A bytes field (length-delimited).</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(Reserve(value.Length));
        _length += value.Length;
    }

    /// <summary>A string field, UTF-8 encoded.</summary>
    public void WriteString(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int count = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
        _length += count;
    }

    /// <summary>An embedded message field: the bytes <paramref name="message"/> holds.</summary>
    public void WriteMessage(int field, ProtoWriter message) => WriteBytes(field, message.WrittenSpan);

    /// <summary>A packed repeated double field: one length-delimited run of fixed64 values (nothing when empty).</summary>
    public void WritePackedDoubles(int field, ReadOnlySpan<double> values)
    {
        if (values.IsEmpty) return;
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)values.Length * 8);
        var span = Reserve(values.Length * 8);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(span.Slice(i * 8, 8), values[i]);
        _length += values.Length * 8;
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + count);
            if (wanted > Array.MaxLength)
            {
                if ((long)_length + count > Array.MaxLength)
                    throw new KilnException($"protobuf message would exceed {Array.MaxLength} bytes");
                wanted = Array.MaxLength;
            }
            Array.Resize(ref _buffer, (int)wanted);
        }
        return _buffer.AsSpan(_length, count);
    }
}
