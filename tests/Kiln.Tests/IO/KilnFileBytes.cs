using System.Buffers.Binary;
using Kiln.IO;

namespace Kiln.Tests.IO;

/// <summary>The sections of a .kiln file, to edit one and put the file together again with correct lengths and checksum.</summary>
internal sealed record KilnFileBytes(byte[] Header, byte[] Graph, byte[] Weights)
{
    internal static KilnFileBytes Split(byte[] file)
    {
        long g = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(16));
        long w = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24));
        return new KilnFileBytes(file[..32], file.AsSpan(32, (int)g).ToArray(), file.AsSpan(32 + (int)g, (int)w).ToArray());
    }

    /// <summary>The file with the header's section lengths set to the sections' and a fresh CRC-32.</summary>
    internal byte[] Join()
    {
        var header = (byte[])Header.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)Graph.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), (ulong)Weights.Length);
        return Reseal([.. header, .. Graph, .. Weights, 0, 0, 0, 0]);
    }

    /// <summary>The file with its last four bytes replaced by the CRC-32 of the others (a damaged file that passes the checksum).</summary>
    internal static byte[] Reseal(byte[] file)
    {
        var copy = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(copy.Length - 4), Crc32.Compute(copy.AsSpan(0, copy.Length - 4)));
        return copy;
    }

    /// <summary>Where <paramref name="text"/> (ASCII) first appears in <paramref name="bytes"/>.</summary>
    internal static int Find(byte[] bytes, string text)
    {
        int at = bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(text));
        Assert.True(at >= 0, $"'{text}' is not in the bytes");
        return at;
    }
}
