using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Kiln.IO;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header length, a
/// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian,
/// row-major data. Files hold only data, so loading runs no code; a malformed or hostile file is
/// refused with <see cref="KilnFormatException"/> before anything is allocated from its sizes.
/// Supported dtypes: F32, F64, I32, I64, U8, I8 and BOOL.
/// </summary>
public static class Safetensors
{
    // Large tensors are copied in slices so that no span exceeds int.MaxValue bytes.
    private const int Chunk = 1 << 24;

    /// <summary>
    /// Writes <paramref name="tensors"/> (and optional <paramref name="metadata"/> strings) to
    /// <paramref name="path"/> atomically: the old file, if any, stays intact until the new one is
    /// complete on the disk. The header lists the tensors in the given order; non-contiguous tensors are
    /// written contiguous. Names must be unique and not <c>__metadata__</c>.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = Prepare(tensors, metadata, out var list);
        AtomicFile.Write(path, stream => WritePrepared(stream, entries, list, metadata));
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> in safetensors form to <paramref name="stream"/> at its current
    /// position (not atomically: use <see cref="Save"/> for files).
    /// </summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var entries = Prepare(tensors, metadata, out var list);
        WritePrepared(stream, entries, list, metadata);
    }

    /// <summary>
    /// Reads the safetensors file at <paramref name="path"/>. The tensors belong to the caller (they are
    /// in no <see cref="Engine.Scope"/>); dispose the result, or each tensor, when done.
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not valid safetensors, or holds a dtype Kiln lacks (F16, BF16, ...).</exception>
    public static SafetensorsData Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return Read(stream, $"file '{path}'");
    }

    /// <summary>
    /// Reads safetensors data from <paramref name="stream"/>, which must hold exactly one file from its
    /// current position to its end. A stream that cannot seek is first copied to memory, so that sizes
    /// are checked against what it really holds before any tensor is allocated.
    /// </summary>
    /// <exception cref="KilnFormatException">The data is not valid safetensors, or holds a dtype Kiln lacks.</exception>
    public static SafetensorsData Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, "stream");
    }

    /// <summary>The number of bytes <see cref="Write"/> writes for <paramref name="tensors"/> (and <paramref name="metadata"/>).</summary>
    internal static long Length(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = Prepare(tensors, metadata, out _);
        return SafetensorsHeader.Build(entries, metadata).Length + (entries.Count == 0 ? 0 : entries[^1].End);
    }

    // ---- reading ----

    private static SafetensorsData Read(Stream stream, string source)
    {
        if (!stream.CanRead) throw new ArgumentException("the stream cannot be read", nameof(stream));
        if (!stream.CanSeek)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            return ReadSeekable(copy, source);
        }
        return ReadSeekable(stream, source);
    }

    private static SafetensorsData ReadSeekable(Stream stream, string source) => Read(stream, stream.Length - stream.Position, source);

    /// <summary>
    /// Reads one safetensors file of <paramref name="available"/> bytes from <paramref name="stream"/>
    /// (which need not seek: an archive entry, whose length its directory gives). Reading stops at
    /// that length; a stream that ends earlier is a <see cref="KilnFormatException"/>.
    /// </summary>
    internal static SafetensorsData Read(Stream stream, long available, string source)
    {
        if (available < 8) throw SafetensorsHeader.Error(source, $"{available} bytes is too short to hold the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > SafetensorsHeader.MaxHeaderLength)
            throw SafetensorsHeader.Error(source, $"the header length {headerLength} exceeds the limit of {SafetensorsHeader.MaxHeaderLength} bytes");
        if (headerLength > (ulong)(available - 8))
            throw SafetensorsHeader.Error(source, $"the header length {headerLength} exceeds the {available - 8} bytes after the length field");

        var json = new byte[headerLength];
        ReadExactly(stream, json, source);
        var header = SafetensorsHeader.Parse(json, available - 8 - (long)headerLength, source);

        var entries = header.Entries;
        // The checked layout tiles the buffer in this order, so the data is read front to back without seeking.
        var order = Enumerable.Range(0, entries.Count).ToArray();
        Array.Sort(order, (a, b) => entries[a].Begin != entries[b].Begin ? entries[a].Begin.CompareTo(entries[b].Begin) : entries[a].End.CompareTo(entries[b].End));
        var tensors = new Tensor?[entries.Count];
        try
        {
            foreach (var i in order)
            {
                var e = entries[i];
                var t = Tensor.Empty(e.Shape, e.DType).DetachFromScope();
                tensors[i] = t;
                ReadData(stream, t, e.End - e.Begin, source);
            }
            var result = new OrderedDictionary<string, Tensor>(entries.Count);
            for (int i = 0; i < entries.Count; i++) result.Add(entries[i].Name, tensors[i]!);
            return new SafetensorsData(result, header.Metadata);
        }
        catch
        {
            foreach (var t in tensors) t?.Dispose();
            throw;
        }
    }

    private static unsafe void ReadData(Stream stream, Tensor t, long bytes, string source)
    {
        var p = (byte*)t.DataPointer;
        for (long done = 0; done < bytes;)
        {
            int n = (int)Math.Min(Chunk, bytes - done);
            var span = new Span<byte>(p + done, n);
            ReadExactly(stream, span, source);
            if (t.DType == DType.Bool)
            {
                // A .NET bool must be 0 or 1; the format stores one byte per element, and any other
                // nonzero byte a writer left is read as true.
                foreach (ref var b in span)
                    if (b > 1) b = 1;
            }
            else if (!BitConverter.IsLittleEndian)
            {
                ReverseEndianness(span, t.DType.ElementSize());
            }
            done += n;
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> span, string source)
    {
        try { stream.ReadExactly(span); }
        catch (EndOfStreamException)
        {
            throw SafetensorsHeader.Error(source, "the data ended early (was the file changed while it was read?)");
        }
    }

    // ---- writing ----

    private static List<SafetensorsEntry> Prepare(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata, out List<Tensor> list)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (value is null) throw new ArgumentException($"safetensors metadata \"{key}\" has a null value", nameof(metadata));

        var entries = new List<SafetensorsEntry>();
        list = [];
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (name is null) throw new ArgumentException("a tensor name is null", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"\"{name}\" is reserved for the metadata and cannot name a tensor", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"the tensor name \"{name}\" appears twice", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"tensor \"{name}\" is null", nameof(tensors));
            if (tensor.IsDisposed) throw new ArgumentException($"tensor \"{name}\" was disposed", nameof(tensors));
            long bytes = (long)tensor.NumElements * tensor.DType.ElementSize();
            entries.Add(new SafetensorsEntry(name, tensor.DType, tensor.ShapeArray, offset, offset + bytes));
            list.Add(tensor);
            offset += bytes;
        }
        return entries;
    }

    private static void WritePrepared(Stream stream, List<SafetensorsEntry> entries, List<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        stream.Write(SafetensorsHeader.Build(entries, metadata));
        foreach (var t in tensors) WriteData(stream, t);
    }

    private static unsafe void WriteData(Stream stream, Tensor t)
    {
        Tensor c;
        using (Engine.NoGrad()) c = t.Contiguous();
        try
        {
            long bytes = (long)c.NumElements * c.DType.ElementSize();
            var p = (byte*)c.DataPointer;
            byte[]? swapped = BitConverter.IsLittleEndian ? null : ArrayPool<byte>.Shared.Rent(Chunk);
            try
            {
                for (long done = 0; done < bytes;)
                {
                    int n = (int)Math.Min(Chunk, bytes - done);
                    ReadOnlySpan<byte> span = new(p + done, n);
                    if (swapped is not null)
                    {
                        span.CopyTo(swapped);
                        ReverseEndianness(swapped.AsSpan(0, n), c.DType.ElementSize());
                        span = swapped.AsSpan(0, n);
                    }
                    stream.Write(span);
                    done += n;
                }
            }
            finally
            {
                if (swapped is not null) ArrayPool<byte>.Shared.Return(swapped);
            }
        }
        finally
        {
            if (!ReferenceEquals(c, t)) c.Dispose();
        }
    }

    // The format is little-endian; only a big-endian machine needs this.
    private static void ReverseEndianness(Span<byte> bytes, int elementSize)
    {
        switch (elementSize)
        {
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
        }
    }
}
