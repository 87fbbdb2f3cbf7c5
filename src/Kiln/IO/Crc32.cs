using System.Buffers.Binary;

namespace Kiln.IO;

/// <summary>
/// The standard CRC-32 (ISO-HDLC, as zip, zlib and PNG use it: reflected polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF). The SDK has no public CRC-32 (System.IO.Hashing is a
/// separate package). Eight bytes a step with eight tables ("slicing by 8"), about a gigabyte a
/// second, since saved-model archives check every weight byte with it.
/// </summary>
internal static class Crc32
{
    private const uint ReflectedPolynomial = 0xEDB88320;

    private static readonly uint[][] Tables = BuildSlicingTables(BuildTable(ReflectedPolynomial));

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    /// <summary>The running value before any byte.</summary>
    public const uint Start = 0xFFFFFFFF;

    /// <summary>Folds <paramref name="data"/> into the running value <paramref name="crc"/> (which starts at <see cref="Start"/>).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Tables;
        while (data.Length >= 8)
        {
            uint low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7][low & 0xFF] ^ t[6][(low >> 8) & 0xFF] ^ t[5][(low >> 16) & 0xFF] ^ t[4][low >> 24]
                ^ t[3][high & 0xFF] ^ t[2][(high >> 8) & 0xFF] ^ t[1][(high >> 16) & 0xFF] ^ t[0][high >> 24];
            data = data[8..];
        }
        return Append(t[0], crc, data);
    }

    /// <summary>Folds <paramref name="data"/> into <paramref name="crc"/> with a table from <see cref="BuildTable"/>, one byte per step.</summary>
    internal static uint Append(uint[] table, uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The CRC of everything appended to the running value <paramref name="crc"/>.</summary>
    public static uint Finish(uint crc) => ~crc;

    /// <summary>The byte-at-a-time table of the reflected CRC with <paramref name="reflectedPolynomial"/> (shared with <see cref="Crc32C"/>).</summary>
    internal static uint[] BuildTable(uint reflectedPolynomial)
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? reflectedPolynomial ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    // Table k gives the CRC contribution of a byte followed by k zero bytes.
    private static uint[][] BuildSlicingTables(uint[] first)
    {
        var tables = new uint[8][];
        tables[0] = first;
        for (int k = 1; k < 8; k++)
        {
            tables[k] = new uint[256];
            for (int i = 0; i < 256; i++) tables[k][i] = first[tables[k - 1][i] & 0xFF] ^ (tables[k - 1][i] >> 8);
        }
        return tables;
    }
}
