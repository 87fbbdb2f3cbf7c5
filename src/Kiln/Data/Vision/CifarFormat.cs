using System.Formats.Tar;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>A copy of CIFAR-10 on disk: a folder holding the six batch files, or the cifar-10-binary.tar.gz archive.</summary>
internal sealed record CifarCopy(string Path, bool IsArchive);

/// <summary>
/// Reads the binary version of CIFAR-10: data_batch_1.bin .. data_batch_5.bin (training) and
/// test_batch.bin, each a sequence of 3073-byte records (a label byte 0..9, then the 32x32 red, green
/// and blue planes, rows top to bottom), from the extracted cifar-10-batches-bin folder or straight
/// from the archive. Each file's size is checked against whole records and the per-file maximum before
/// anything is allocated for it.
/// </summary>
internal static class CifarFormat
{
    internal const int Side = 32;
    internal const int Channels = 3;
    internal const int ImageBytes = Channels * Side * Side;
    internal const int RecordBytes = 1 + ImageBytes;
    internal const int MaxRecordsPerFile = 10000;
    internal const int Classes = 10;
    internal const string ArchiveName = "cifar-10-binary.tar.gz";
    internal const string FolderName = "cifar-10-batches-bin";

    internal static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    internal const string TestFile = "test_batch.bin";

    private static IEnumerable<string> AllFiles => TrainFiles.Append(TestFile);

    /// <summary>What every place needs, for the not-found message.</summary>
    internal static string Needs =>
        $"Each place needs {FolderName}/ (or the files themselves: {string.Join(", ", AllFiles)}) or {ArchiveName}.";

    /// <summary>
    /// The copy in <paramref name="directory"/>: the six files directly in it or in its cifar-10-batches-bin
    /// folder, else the archive; or null with what is missing.
    /// </summary>
    internal static (CifarCopy? Found, string Missing) Probe(string directory)
    {
        foreach (var folder in new[] { directory, Path.Combine(directory, FolderName) })
            if (AllFiles.All(f => File.Exists(Path.Combine(folder, f)))) return (new CifarCopy(folder, false), "");
        var archive = Path.Combine(directory, ArchiveName);
        if (File.Exists(archive)) return (new CifarCopy(archive, true), "");
        return (null, $"lacks {FolderName}/ with {string.Join(", ", AllFiles)}, and {ArchiveName}");
    }

    /// <summary>Reads both splits from <paramref name="copy"/>.</summary>
    internal static ImageData Read(CifarCopy copy)
    {
        var files = copy.IsArchive ? ReadArchive(copy.Path) : ReadFolder(copy.Path);
        var train = TrainFiles.Select(f => (f, files[f])).ToList();
        var (trainImages, trainLabels) = Decode(copy.Path, train);
        try
        {
            var (testImages, testLabels) = Decode(copy.Path, [(TestFile, files[TestFile])]);
            return new ImageData(copy.Path, trainImages, trainLabels, testImages, testLabels);
        }
        catch
        {
            trainImages.Dispose();
            trainLabels.Dispose();
            throw;
        }
    }

    /// <summary>The number of records in a file of <paramref name="length"/> bytes, or a refusal naming <paramref name="name"/>.</summary>
    internal static int Records(string name, long length)
    {
        if (length % RecordBytes != 0)
            throw new KilnFormatException($"{name}: {length} bytes is not a whole number of {RecordBytes}-byte CIFAR-10 records (1 label byte + {ImageBytes} pixel bytes)");
        long records = length / RecordBytes;
        if (records == 0) throw new KilnFormatException($"{name}: holds no records");
        if (records > MaxRecordsPerFile)
            throw new KilnFormatException($"{name}: holds {records} records; a CIFAR-10 batch file holds at most {MaxRecordsPerFile}");
        return (int)records;
    }

    private static Dictionary<string, byte[]> ReadFolder(string folder)
    {
        var files = new Dictionary<string, byte[]>();
        foreach (var name in AllFiles)
        {
            var path = Path.Combine(folder, name);
            using var stream = File.OpenRead(path);
            int records = Records(path, stream.Length);
            var bytes = new byte[records * RecordBytes];
            stream.ReadExactly(bytes);
            files[name] = bytes;
        }
        return files;
    }

    private static Dictionary<string, byte[]> ReadArchive(string archive)
    {
        var files = new Dictionary<string, byte[]>();
        var wanted = AllFiles.ToHashSet();
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                var name = Path.GetFileName(entry.Name);
                if (!wanted.Contains(name)) continue;
                var where = $"{archive}: {entry.Name}";
                if (files.ContainsKey(name)) throw new KilnFormatException($"{where}: {name} appears twice in the archive");
                int records = Records(where, entry.Length);
                var bytes = new byte[records * RecordBytes];
                entry.DataStream!.ReadExactly(bytes);
                files[name] = bytes;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new KilnFormatException($"{archive}: the archive is truncated or corrupt ({e.Message})");
        }
        var absent = AllFiles.Where(f => !files.ContainsKey(f)).ToList();
        if (absent.Count > 0)
            throw new KilnFormatException($"{archive}: the archive lacks {string.Join(", ", absent)} (looked for them under {FolderName}/)");
        return files;
    }

    /// <summary>Images uint8 [N, 3, 32, 32] and labels int64 [N] from the records of <paramref name="files"/>, in order.</summary>
    private static (Tensor Images, Tensor Labels) Decode(string source, IReadOnlyList<(string Name, byte[] Bytes)> files)
    {
        int n = files.Sum(f => f.Bytes.Length / RecordBytes);
        var labels = new byte[n];
        int item = 0;
        foreach (var (name, bytes) in files)
        {
            for (int r = 0; r < bytes.Length / RecordBytes; r++, item++)
            {
                byte label = bytes[r * RecordBytes];
                if (label >= Classes)
                    throw new KilnFormatException($"{source}: {name}: record {r} has label {label}, outside 0..{Classes - 1}");
                labels[item] = label;
            }
        }
        // The pixels go straight from the records into the tensor: a whole-split staging array would
        // raise peak memory by its size.
        var images = Tensor.Empty([n, Channels, Side, Side], DType.UInt8).DetachFromScope();
        var pixels = images.Span<byte>();
        item = 0;
        foreach (var (_, bytes) in files)
            for (int r = 0; r < bytes.Length / RecordBytes; r++, item++)
                bytes.AsSpan(r * RecordBytes + 1, ImageBytes).CopyTo(pixels.Slice(item * ImageBytes, ImageBytes));
        return (images, ImageData.Labels(labels, n));
    }
}
