using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.IO;

/// <summary>
/// A small PNG encoder for TensorBoard images: 8-bit grayscale, RGB or RGBA, no interlacing. The
/// file is the 8-byte signature, then chunks (length, type, data, CRC-32 of type and data): IHDR,
/// one IDAT holding the zlib stream of the filtered rows, and IEND. Every row uses the Sub filter
/// (each byte minus the same channel of the pixel to its left), which costs one subtraction per
/// byte and compresses smooth images far better than no filter.
/// </summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private const byte FilterSub = 1;

    /// <summary>
    /// Encodes <paramref name="pixels"/>, <paramref name="height"/> rows of <paramref name="width"/>
    /// pixels with <paramref name="channels"/> interleaved bytes each (1 gray, 3 RGB, 4 RGBA).
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        byte colorType = channels switch
        {
            1 => 0,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "a PNG image has 1 (gray), 3 (RGB) or 4 (RGBA) channels"),
        };
        if (width < 1 || height < 1) throw new ArgumentException($"a PNG image needs at least one pixel, got {width}x{height}");
        long rowBytes = (long)width * channels;
        if (pixels.Length != rowBytes * height) throw new ArgumentException($"{width}x{height}x{channels} pixels need {rowBytes * height} bytes, got {pixels.Length}", nameof(pixels));

        var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;          // bit depth
        header[9] = colorType;
        header[10] = 0;         // compression: deflate
        header[11] = 0;         // filter method: adaptive (per-row filter byte)
        header[12] = 0;         // no interlace
        WriteChunk(output, "IHDR"u8, header);

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[rowBytes + 1];
            row[0] = FilterSub;
            for (int y = 0; y < height; y++)
            {
                var source = pixels.Slice((int)(y * rowBytes), (int)rowBytes);
                for (int i = 0; i < channels; i++) row[1 + i] = source[i];
                for (int i = channels; i < source.Length; i++) row[1 + i] = (byte)(source[i] - source[i - channels]);
                zlib.Write(row);
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(Crc32.Append(Crc32.Append(Crc32.Start, type), data)));
        output.Write(word);
    }
}
