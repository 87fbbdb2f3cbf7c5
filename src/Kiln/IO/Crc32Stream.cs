namespace Kiln.IO;

/// <summary>
/// A read-only stream over another that computes the zip format's CRC-32 (IEEE 802.3, reflected
/// polynomial 0xEDB88320) of everything read through it, so an archive entry's bytes can be checked
/// against the checksum its directory records: System.IO.Compression does not check it for stored
/// entries, and a bit flipped on the disk would otherwise load as a different weight.
/// </summary>
internal sealed class Crc32Stream(Stream inner) : Stream
{
    private uint _crc = Crc32.Start;

    /// <summary>The CRC-32 of the bytes read so far.</summary>
    public uint Crc => Crc32.Finish(_crc);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _crc = Crc32.Append(_crc, buffer[..n]);
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
