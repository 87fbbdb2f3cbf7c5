using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Kiln.Tests.Data;

/// <summary>
/// Writes small synthetic CIFAR-10 binary batches byte by byte (record = label, then 1024 red, 1024 green,
/// 1024 blue bytes), as a cifar-10-batches-bin folder or a cifar-10-binary.tar.gz, in a temporary directory.
/// </summary>
internal sealed class CifarFiles : IDisposable
{
    internal static readonly string[] Names = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    internal string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kiln-cifar-").FullName;

    /// <summary>Label of record r of file f.</summary>
    internal static byte Label(int file, int record) => (byte)((3 * file + record) % 10);

    /// <summary>Byte p (0..3071, channel-major) of the image of record r of file f.</summary>
    internal static byte Pixel(int file, int record, int p) => (byte)((p * 7 + file * 31 + record * 13) % 256);

    /// <summary>The bytes of file f with <paramref name="records"/> records.</summary>
    internal static byte[] Batch(int file, int records)
    {
        var bytes = new byte[records * 3073];
        for (int r = 0; r < records; r++)
        {
            bytes[r * 3073] = Label(file, r);
            for (int p = 0; p < 3072; p++) bytes[r * 3073 + 1 + p] = Pixel(file, r, p);
        }
        return bytes;
    }

    /// <summary>The six files with <paramref name="records"/> records each, as name and bytes.</summary>
    internal static List<(string Name, byte[] Bytes)> Batches(int records) =>
        Names.Select((name, f) => (name, Batch(f, records))).ToList();

    /// <summary>Writes the files into <paramref name="subdirectory"/> and returns its path.</summary>
    internal string WriteFolder(string subdirectory, IEnumerable<(string Name, byte[] Bytes)> files)
    {
        var folder = Path.Combine(Directory, subdirectory);
        System.IO.Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return folder;
    }

    /// <summary>The bytes of a gzip'd tar of the files under cifar-10-batches-bin/, with the archive's other files too.</summary>
    internal static byte[] Archive(IEnumerable<(string Name, byte[] Bytes)> files)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/"));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/batches.meta.txt")
            {
                DataStream = new MemoryStream(Encoding.ASCII.GetBytes("airplane\nautomobile\n")),
            });
            foreach (var (name, bytes) in files)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + name) { DataStream = new MemoryStream(bytes) });
        }
        return IdxFiles.Gzip(tar.ToArray());
    }

    internal string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
