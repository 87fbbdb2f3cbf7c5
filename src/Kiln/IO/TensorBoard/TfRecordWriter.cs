using System.Buffers.Binary;

namespace Kiln.IO;

/// <summary>
/// Writes TFRecord framing to a stream, the container of TensorBoard event files: for each record
/// the payload length as a little-endian u64, the masked CRC-32C of those 8 bytes (u32), the
/// payload, and the masked CRC-32C of the payload (u32). A reader checks both CRCs, so a record cut
/// short by a crash is recognized and skipped rather than misread.
/// </summary>
internal sealed class TfRecordWriter(Stream stream)
{
    /// <summary>The stream records go to.</summary>
    public Stream Stream => stream;

    /// <summary>Writes one framed record holding <paramref name="payload"/>.</summary>
    public void Write(ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.ComputeMasked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.ComputeMasked(payload));
        stream.Write(header);
        stream.Write(payload);
        stream.Write(footer);
    }
}
