using System.IO.Compression;

namespace Kiln.IO;

/// <summary>
/// The zip archive that holds a saved model or a training backup: a few entries with fixed names,
/// written stored (uncompressed) with a fixed timestamp, so the same content gives the same bytes.
/// Reading trusts nothing in the archive: only the names the caller knows are looked up (exactly,
/// never as paths), a name found twice is refused, every entry's declared size must fit in the
/// file (the declared sizes together too), and an entry is read up to its declared size and no
/// further, so neither a "zip bomb" nor a lying directory makes the reader allocate more than
/// the file holds; each entry's CRC-32 is checked, so a damaged file is refused rather than loaded
/// with different weights. Every problem is a <see cref="KilnFormatException"/> naming the file and the entry.
/// </summary>
internal sealed class KilnArchive : IDisposable
{
    private static readonly DateTimeOffset Timestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;

    private KilnArchive(ZipArchive zip, Dictionary<string, ZipArchiveEntry> entries, string source)
    {
        _zip = zip;
        _entries = entries;
        Source = source;
    }

    /// <summary>What error messages call the file ("saved model 'm.kilnmodel'").</summary>
    public string Source { get; }

    /// <summary>Writes an archive of <paramref name="entries"/> (name, writer of the content) to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IEnumerable<(string Name, Action<Stream> Write)> entries)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, write) in entries)
        {
            var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
            entry.LastWriteTime = Timestamp;
            using var content = entry.Open();
            write(content);
        }
    }

    /// <summary>
    /// Opens the archive in <paramref name="stream"/> (seekable, read from its start) and checks the
    /// entries named <paramref name="known"/>; other entries are ignored and never read.
    /// </summary>
    public static KilnArchive Open(Stream stream, string source, IReadOnlyCollection<string> known)
    {
        long length = stream.Length;
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (IsArchiveError(e))
        {
            throw new KilnFormatException($"{source}: not a valid zip archive ({e.Message})");
        }
        try
        {
            var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName;
                if (!known.Contains(name)) continue;
                if (!entries.TryAdd(name, entry)) throw new KilnFormatException($"{source}: the archive holds two entries named {name}");
                if (entry.IsEncrypted) throw new KilnFormatException($"{source}: entry {name} is encrypted");
                if (entry.Length < 0 || entry.Length > length)
                    throw new KilnFormatException($"{source}: entry {name} declares {entry.Length} bytes, more than the whole file ({length} bytes)");
                total += entry.Length;
            }
            if (total > length)
                throw new KilnFormatException($"{source}: the entries declare {total} bytes together, more than the whole file ({length} bytes)");
            return new KilnArchive(zip, entries, source);
        }
        catch (Exception e)
        {
            zip.Dispose();
            if (IsArchiveError(e)) throw new KilnFormatException($"{source}: not a valid zip archive ({e.Message})");
            throw;
        }
    }

    /// <summary>Whether the archive has the entry <paramref name="name"/>.</summary>
    public bool Has(string name) => _entries.ContainsKey(name);

    /// <summary>The bytes of entry <paramref name="name"/>, which must be present and at most <paramref name="maxBytes"/> long.</summary>
    public byte[] ReadBytes(string name, long maxBytes)
    {
        var entry = Entry(name);
        if (entry.Length > maxBytes)
            throw new KilnFormatException($"{Source}: entry {name} is {entry.Length} bytes; at most {maxBytes} are accepted");
        var bytes = new byte[entry.Length];
        Read(entry, stream =>
        {
            stream.ReadExactly(bytes);
            return 0;
        });
        return bytes;
    }

    /// <summary>The safetensors file in entry <paramref name="name"/>, which must be present; the caller owns the tensors.</summary>
    public SafetensorsData ReadSafetensors(string name)
    {
        var entry = Entry(name);
        return Read(entry, stream => Safetensors.Read(stream, entry.Length, $"entry {name} of {Source}"), dispose: data => data.Dispose());
    }

    public void Dispose() => _zip.Dispose();

    private ZipArchiveEntry Entry(string name)
        => _entries.TryGetValue(name, out var entry) ? entry : throw new KilnFormatException($"{Source}: the archive has no entry {name}");

    // Reads exactly the declared length through `read`, then requires the entry to end there.
    private T Read<T>(ZipArchiveEntry entry, Func<Stream, T> read, Action<T>? dispose = null)
    {
        T result = default!;
        bool done = false;
        try
        {
            using var stream = entry.Open();
            var checkedStream = new Crc32Stream(stream);
            result = read(checkedStream);
            done = true;
            if (checkedStream.ReadByte() >= 0)
                throw new KilnFormatException($"{Source}: entry {entry.FullName} holds more than the {entry.Length} bytes its directory record declares");
            if (checkedStream.Crc != entry.Crc32)
                throw new KilnFormatException($"{Source}: entry {entry.FullName} fails its CRC-32 check (0x{checkedStream.Crc:X8}, the archive records 0x{entry.Crc32:X8}): the file is damaged");
            return result;
        }
        catch (Exception e) when (e is not KilnFormatException)
        {
            if (done && dispose is not null) dispose(result);
            if (e is EndOfStreamException) throw new KilnFormatException($"{Source}: entry {entry.FullName} ends before the {entry.Length} bytes its directory record declares");
            if (IsArchiveError(e)) throw new KilnFormatException($"{Source}: entry {entry.FullName} cannot be read ({e.Message})");
            throw;
        }
        catch
        {
            if (done && dispose is not null) dispose(result);
            throw;
        }
    }

    // What System.IO.Compression throws for a malformed archive: bad records, unsupported methods,
    // offsets outside the file.
    private static bool IsArchiveError(Exception e)
        => e is InvalidDataException or EndOfStreamException or NotSupportedException or ArgumentOutOfRangeException or ArgumentException or IOException and not FileNotFoundException and not DirectoryNotFoundException;
}
