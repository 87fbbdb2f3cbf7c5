using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>
/// Reads IDX files of unsigned bytes (the MNIST family's format), gzip'd or plain: a 4-byte magic
/// (two zero bytes, type 0x08, number of dimensions), the dimensions as big-endian int32, then the data.
/// The data goes straight into a uint8 tensor of those dimensions (no intermediate copy of the whole
/// array, which would raise peak memory by its size) when the file's own length, or a gzip file's
/// recorded uncompressed length, agrees with what the header claims. Otherwise the data is read into a
/// buffer that grows only as data arrives, so a truncated, padded or hostile file is refused with
/// <see cref="KilnFormatException"/> without an allocation larger than the data it really holds.
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

    /// <summary>
    /// Reads the file at <paramref name="path"/>, which must carry <paramref name="expectedMagic"/>: a uint8
    /// tensor shaped as the header's dimensions, out of every scope (the caller disposes it).
    /// </summary>
    internal static Tensor Read(string path, int expectedMagic)
    {
        using var file = File.OpenRead(path);
        bool gzip = file.Length >= 2 && file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        if (!gzip)
        {
            file.Position = 0;
            return Read(file, expectedMagic, path, file.Length, lengthModulo32Bits: false);
        }
        // A gzip member ends with its uncompressed length mod 2^32 (ISIZE). It is only a hint (a file of
        // several members records the last one's), so it decides how to read, never what is accepted.
        long? inflatedLength = null;
        if (file.Length >= 18)
        {
            Span<byte> trailer = stackalloc byte[4];
            file.Position = file.Length - 4;
            file.ReadExactly(trailer);
            inflatedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        }
        file.Position = 0;
        using var inflated = new GZipStream(file, CompressionMode.Decompress);
        try
        {
            return Read(inflated, expectedMagic, path, inflatedLength, lengthModulo32Bits: true);
        }
        catch (InvalidDataException e)
        {
            throw new KilnFormatException($"{path}: the gzip data is corrupt ({e.Message})");
        }
    }

    /// <summary>
    /// Reads an IDX array from <paramref name="stream"/>; <paramref name="name"/> names it in errors.
    /// <paramref name="streamLength"/>, when known, is the stream's length in bytes (mod 2^32 when
    /// <paramref name="lengthModulo32Bits"/>), used only to choose the direct read.
    /// </summary>
    internal static Tensor Read(Stream stream, int expectedMagic, string name, long? streamLength = null, bool lengthModulo32Bits = false)
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

        long total = 4L + 4L * rank + claimed;
        bool agrees = streamLength is { } length && (lengthModulo32Bits ? (uint)total == length : total == length);
        if (!agrees)
        {
            var buffer = ReadGrowing(stream, (int)claimed, out long present);
            Check(name, dims, claimed, present);
            var copy = Tensor.Empty(dims, DType.UInt8).DetachFromScope();
            buffer.AsSpan(0, (int)claimed).CopyTo(copy.Span<byte>());
            return copy;
        }
        var array = Tensor.Empty(dims, DType.UInt8).DetachFromScope();
        try
        {
            Check(name, dims, claimed, ReadInto(stream, array.Span<byte>()));
            return array;
        }
        catch
        {
            array.Dispose();
            throw;
        }
    }

    private static void Check(string name, int[] dims, long claimed, long present)
    {
        if (present < claimed)
            throw new KilnFormatException(
                $"{name}: truncated: its header ({string.Join(" x ", dims)}) claims {claimed} bytes of data, the file holds {present}");
        if (present > claimed)
            throw new KilnFormatException(
                $"{name}: data continues past the {claimed} bytes its header ({string.Join(" x ", dims)}) claims");
    }

    /// <summary>Fills <paramref name="destination"/> from the stream, then probes for one byte more; returns the bytes present (one more than fit when data continues).</summary>
    private static long ReadInto(Stream stream, Span<byte> destination)
    {
        int filled = ReadFully(stream, destination);
        return filled == destination.Length && stream.ReadByte() >= 0 ? filled + 1L : filled;
    }

    /// <summary>
    /// As <see cref="ReadInto"/>, for a stream whose length is unknown or disagrees with the header: reads up
    /// to <paramref name="count"/> bytes into a buffer grown only as data arrives (a header that lies costs
    /// no more memory than the data present), then probes for one byte more.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, int count, out long present)
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
