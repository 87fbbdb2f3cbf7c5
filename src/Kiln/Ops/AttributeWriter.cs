using System.Buffers.Binary;

namespace Kiln.Ops;

/// <summary>
/// Writes an op's attribute record into the bytes a <c>.kiln</c> file stores for a node: each value a
/// one-byte tag (<see cref="AttributeTag"/>) and its little-endian bytes, in the order the record's
/// <see cref="OpAttributes.Write"/> gives them, so equal records give equal bytes.
/// <see cref="AttributeReader"/> reads them back in the same order, checking each tag and range.
/// </summary>
internal sealed class AttributeWriter
{
    private readonly List<byte> _bytes = new();

    internal byte[] ToArray() => _bytes.ToArray();

    internal void Bool(bool value)
    {
        _bytes.Add((byte)AttributeTag.Bool);
        _bytes.Add(value ? (byte)1 : (byte)0);
    }

    internal void Int32(int value)
    {
        _bytes.Add((byte)AttributeTag.Int32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _bytes.AddRange(b);
    }

    internal void Int64(long value)
    {
        _bytes.Add((byte)AttributeTag.Int64);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        _bytes.AddRange(b);
    }

    /// <summary>A double by its exact bits (NaN payloads, -0 and infinities survive).</summary>
    internal void Float64(double value)
    {
        _bytes.Add((byte)AttributeTag.Float64);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, BitConverter.DoubleToInt64Bits(value));
        _bytes.AddRange(b);
    }

    internal void OptionalFloat64(double? value)
    {
        if (value is { } v) Float64(v);
        else _bytes.Add((byte)AttributeTag.Absent);
    }

    /// <summary>One of a small set of choices (an enum member), by its number.</summary>
    internal void Choice(int value)
    {
        if (value is < 0 or > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(value), value, "a choice is a number from 0 to 255");
        _bytes.Add((byte)AttributeTag.Choice);
        _bytes.Add((byte)value);
    }

    internal void Ints(IntList values)
    {
        _bytes.Add((byte)AttributeTag.IntList);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, values.Count);
        _bytes.AddRange(b);
        foreach (var v in values.AsSpan())
        {
            BinaryPrimitives.WriteInt32LittleEndian(b, v);
            _bytes.AddRange(b);
        }
    }
}

/// <summary>The kind of one value in an attribute record's bytes.</summary>
internal enum AttributeTag : byte
{
    Bool = 1,
    Int32 = 2,
    Int64 = 3,
    Float64 = 4,
    /// <summary>An optional value that is not there.</summary>
    Absent = 5,
    Choice = 6,
    IntList = 7,
}
