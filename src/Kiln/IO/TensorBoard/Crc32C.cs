using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Kiln.IO;

/// <summary>
/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF),
/// the checksum of TFRecord framing, and its mask. The SSE4.2 <c>crc32</c> instruction computes it
/// eight bytes at a time where the CPU has it; a table-driven loop computes the same value elsewhere.
/// </summary>
internal static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F63B78;

    // TFRecord stores masked CRCs, so that a CRC computed over data that itself holds CRCs does not
    // degenerate: rotate right by 15 bits, then add this constant (mod 2^32).
    private const uint MaskDelta = 0xA282EAD8;

    private static readonly uint[] Table = Crc32.BuildTable(ReflectedPolynomial);

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
        => Sse42.X64.IsSupported ? ComputeSse42(data) : ComputeScalar(data);

    /// <summary>The CRC of <paramref name="data"/>, masked as TFRecord stores it.</summary>
    public static uint ComputeMasked(ReadOnlySpan<byte> data) => Mask(Compute(data));

    /// <summary>TFRecord's mask of a CRC.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>The table-driven CRC (one byte per step); the reference the hardware path is tested against.</summary>
    internal static uint ComputeScalar(ReadOnlySpan<byte> data) => ~Crc32.Append(Table, 0xFFFFFFFF, data);

    /// <summary>The CRC with the SSE4.2 instruction: eight bytes per step, then the tail byte by byte. Only call it where <c>Sse42.X64.IsSupported</c>.</summary>
    internal static uint ComputeSse42(ReadOnlySpan<byte> data)
    {
        ulong crc = 0xFFFFFFFF;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8)));
        uint crc32 = (uint)crc;
        for (; i < data.Length; i++)
            crc32 = Sse42.Crc32(crc32, data[i]);
        return ~crc32;
    }
}
