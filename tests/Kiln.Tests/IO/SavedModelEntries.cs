using System.IO.Compression;
using Kiln.IO;

namespace Kiln.Tests.IO;

/// <summary>Takes a saved model's archive apart and puts (possibly edited) entries back together, for tests of damaged files.</summary>
internal static class SavedModelEntries
{
    /// <summary>The entries of the archive <paramref name="file"/>, in order, with their bytes.</summary>
    public static List<(string Name, byte[] Bytes)> Read(byte[] file)
    {
        using var zip = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
        var result = new List<(string, byte[])>();
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            var bytes = new MemoryStream();
            s.CopyTo(bytes);
            result.Add((entry.FullName, bytes.ToArray()));
        }
        return result;
    }

    /// <summary>An archive of <paramref name="entries"/>, written as SavedModel writes its files.</summary>
    public static byte[] Write(IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        var stream = new MemoryStream();
        KilnArchive.Write(stream, entries.Select(e => (e.Name, (Action<Stream>)(s => s.Write(e.Bytes)))));
        return stream.ToArray();
    }
}
