namespace Kiln.IO;

/// <summary>
/// The standard CRC-32 (ISO-HDLC, as zlib and PNG use it: reflected polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF). The SDK has no public CRC-32 (System.IO.Hashing is a
/// separate package), and a PNG chunk needs only this small table-driven loop.
/// </summary>
internal static class Crc32
{
    private const uint ReflectedPolynomial = 0xEDB88320;

    private static readonly uint[] Table = BuildTable(ReflectedPolynomial);

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    /// <summary>The running value before any byte.</summary>
    public const uint Start = 0xFFFFFFFF;

    /// <summary>Folds <paramref name="data"/> into the running value <paramref name="crc"/> (which starts at <see cref="Start"/>).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => Append(Table, crc, data);

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
}
