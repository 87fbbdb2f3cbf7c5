using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>The unsigned-byte arrays of an IDX file: its dimensions (outermost first) and its data, row-major.</summary>
internal sealed record IdxArray(int[] Dims, byte[] Data);

/// <summary>
/// Reads IDX files of unsigned bytes (the MNIST family's format), gzip'd or plain: a 4-byte magic
/// (two zero bytes, type 0x08, number of dimensions), the dimensions as big-endian int32, then the data.
/// Every size is checked against bounds and against the bytes actually present before the data is
/// kept, so a truncated, padded or hostile file is refused with <see cref="KilnFormatException"/>
/// and never causes an allocation larger than the data it really holds.
/// </summary>
internal static class IdxReader
{
    /// <summary>Magic of an unsigned-byte IDX file with three dimensions (images: count, rows, columns).</summary>
    internal const int ImagesMagic = 0x00000803;

    /// <summary>Magic of an unsigned-byte IDX file with one dimension (labels).</summary>
    internal const int LabelsMagic = 0x00000801;

    /// <summary>The most data bytes a file may claim: far above any dataset of this format, far below memory trouble.</summary>
    internal const long MaxDataBytes = 1L << 30;

    /// <summary>The largest single dimension accepted.</summary>
    internal const int MaxDim = 1 << 24;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Reads the file at <paramref name="path"/>, which must carry <paramref name="expectedMagic"/>.</summary>
    internal static IdxArray Read(string path, int expectedMagic)
    {
        using var file = File.OpenRead(path);
        bool gzip = file.Length >= 2 && file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        if (!gzip) return Read(file, expectedMagic, path);
        using var inflated = new GZipStream(file, CompressionMode.Decompress);
        try
        {
            return Read(inflated, expectedMagic, path);
        }
        catch (InvalidDataException e)
        {
            throw new KilnFormatException($"{path}: the gzip data is corrupt ({e.Message})");
        }
    }

    /// <summary>Reads an IDX array from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    internal static IdxArray Read(Stream stream, int expectedMagic, string name)
    {
        Span<byte> word = stackalloc byte[4];
        if (ReadFully(stream, word) < 4)
            throw new KilnFormatException($"{name}: truncated header: fewer than 4 bytes, no IDX magic");
        int magic = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic != expectedMagic)
            throw new KilnFormatException(
                $"{name}: bad magic 0x{magic:X8}, expected 0x{expectedMagic:X8} (unsigned bytes, {expectedMagic & 0xFF} dimension(s)); not an IDX file of this kind");

        int rank = expectedMagic & 0xFF;
        var dims = new int[rank];
        long claimed = 1;
        for (int i = 0; i < rank; i++)
        {
            if (ReadFully(stream, word) < 4)
                throw new KilnFormatException($"{name}: truncated header: it ends inside dimension {i} of {rank}");
            int d = BinaryPrimitives.ReadInt32BigEndian(word);
            if (d < 0 || d > MaxDim)
                throw new KilnFormatException($"{name}: dimension {i} is {d}, outside [0, {MaxDim}]");
            dims[i] = d;
            claimed *= d;
            if (claimed > MaxDataBytes)
                throw new KilnFormatException(
                    $"{name}: dimensions ({string.Join(", ", dims[..(i + 1)])}{(i + 1 < rank ? ", ..." : "")}) claim more than {MaxDataBytes} bytes of data");
        }

        var data = ReadExactly(stream, (int)claimed, out long present);
        if (present < claimed)
            throw new KilnFormatException(
                $"{name}: truncated: its header ({string.Join(" x ", dims)}) claims {claimed} bytes of data, the file holds {present}");
        if (present > claimed)
            throw new KilnFormatException(
                $"{name}: data continues past the {claimed} bytes its header ({string.Join(" x ", dims)}) claims");
        return new IdxArray(dims, data);
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes, growing the buffer only as data arrives (a header that
    /// lies costs no more memory than the data present), then probes for one byte more.
    /// </summary>
    private static byte[] ReadExactly(Stream stream, int count, out long present)
    {
        var buffer = new byte[Math.Min(count, ChunkBytes)];
        int filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, count));
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }
        present = filled;
        if (filled == count && stream.ReadByte() >= 0) present = count + 1L;
        return buffer;
    }

    private static int ReadFully(Stream stream, Span<byte> destination)
    {
        int filled = 0;
        while (filled < destination.Length)
        {
            int n = stream.Read(destination[filled..]);
            if (n == 0) break;
            filled += n;
        }
        return filled;
    }
}
