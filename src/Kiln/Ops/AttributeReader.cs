using System.Buffers.Binary;

namespace Kiln.Ops;

/// <summary>
/// Reads back what <see cref="AttributeWriter"/> wrote, for one node of a <c>.kiln</c> file: each value
/// must carry the expected tag, fit in the bytes left and pass the range the record asks for, and
/// every byte must be read. A problem is a <see cref="KilnFormatException"/> naming the node
/// (<see cref="Context"/>) and the field. Nothing is allocated beyond what the bytes hold.
/// </summary>
internal sealed class AttributeReader
{
    /// <summary>The longest list an attribute holds (axes, strides, a shape): far more dimensions than any tensor has.</summary>
    internal const int MaxListLength = 64;

    private readonly ReadOnlyMemory<byte> _bytes;
    private int _position;

    /// <param name="bytes">The record's bytes.</param>
    /// <param name="context">What errors name: the file and node ("file 'm.kiln': node %3 (Softmax)").</param>
    internal AttributeReader(ReadOnlyMemory<byte> bytes, string context)
    {
        _bytes = bytes;
        Context = context;
    }

    internal string Context { get; }

    internal bool Bool(string field)
    {
        var b = Take(field, AttributeTag.Bool, 1);
        return b[0] switch
        {
            0 => false,
            1 => true,
            _ => throw Error(field, $"is the byte {b[0]}, not a boolean (0 or 1)"),
        };
    }

    /// <summary>An int in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    internal int Int32(string field, int min = int.MinValue, int max = int.MaxValue)
    {
        int v = BinaryPrimitives.ReadInt32LittleEndian(Take(field, AttributeTag.Int32, 4));
        if (v < min || v > max) throw Error(field, $"is {v}; expected {Range(min, max)}");
        return v;
    }

    internal long Int64(string field)
        => BinaryPrimitives.ReadInt64LittleEndian(Take(field, AttributeTag.Int64, 8));

    /// <summary>Any double, NaN and infinities included.</summary>
    internal double Float64(string field)
        => BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(Take(field, AttributeTag.Float64, 8)));

    /// <summary>A double in [<paramref name="min"/>, <paramref name="max"/>] (so never NaN).</summary>
    internal double Float64(string field, double min, double max)
    {
        double v = Float64(field);
        if (!(v >= min && v <= max)) throw Error(field, $"is {v}; expected a number from {min} to {max}");
        return v;
    }

    internal double? OptionalFloat64(string field)
    {
        if (Peek(field) == (byte)AttributeTag.Absent)
        {
            _position++;
            return null;
        }
        return Float64(field);
    }

    /// <summary>A choice numbered from 0 to <paramref name="count"/> - 1 (an enum member).</summary>
    internal int Choice(string field, int count)
    {
        int v = Take(field, AttributeTag.Choice, 1)[0];
        if (v >= count) throw Error(field, $"is choice {v}; expected one of 0..{count - 1}");
        return v;
    }

    internal DType DType(string field) => (DType)Choice(field, (int)Kiln.DType.Int8 + 1);

    /// <summary>A list of at most <see cref="MaxListLength"/> ints, each in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    internal IntList Ints(string field, int min = int.MinValue, int max = int.MaxValue)
    {
        int count = BinaryPrimitives.ReadInt32LittleEndian(Take(field, AttributeTag.IntList, 4));
        if (count < 0 || count > MaxListLength) throw Error(field, $"declares {count} values; at most {MaxListLength} are accepted");
        if (count * 4 > _bytes.Length - _position) throw Error(field, $"declares {count} values, more than the {_bytes.Length - _position} bytes left hold");
        var items = new int[count];
        for (int i = 0; i < count; i++)
        {
            items[i] = BinaryPrimitives.ReadInt32LittleEndian(_bytes.Span.Slice(_position, 4));
            _position += 4;
            if (items[i] < min || items[i] > max) throw Error(field, $"value {i} is {items[i]}; expected {Range(min, max)}");
        }
        return new IntList(items);
    }

    /// <summary>Requires every byte to have been read.</summary>
    internal void End()
    {
        if (_position != _bytes.Length)
            throw new KilnFormatException($"{Context}: the attributes hold {_bytes.Length - _position} bytes more than the op reads");
    }

    /// <summary>An error about <paramref name="field"/> for a check the record makes itself.</summary>
    internal KilnFormatException Error(string field, string what) => new($"{Context}: attribute \"{field}\" {what}");

    private byte Peek(string field)
    {
        if (_position >= _bytes.Length) throw Error(field, "is missing (the attributes end early)");
        return _bytes.Span[_position];
    }

    private ReadOnlySpan<byte> Take(string field, AttributeTag tag, int size)
    {
        byte found = Peek(field);
        if (found != (byte)tag) throw Error(field, $"has tag {found}; expected {tag} ({(byte)tag})");
        if (size > _bytes.Length - _position - 1) throw Error(field, "is cut short (the attributes end early)");
        var span = _bytes.Span.Slice(_position + 1, size);
        _position += 1 + size;
        return span;
    }

    private static string Range(int min, int max) => (min, max) switch
    {
        (int.MinValue, int.MaxValue) => "an int",
        (_, int.MaxValue) => $"an int >= {min}",
        (int.MinValue, _) => $"an int <= {max}",
        _ => $"an int from {min} to {max}",
    };
}
