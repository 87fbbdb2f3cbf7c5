using System.Buffers.Binary;
using System.IO.Compression;

namespace Kiln.Tests.Data;

/// <summary>Writes IDX files byte by byte for the tests (independently of the reader), in a temporary directory.</summary>
internal sealed class IdxFiles : IDisposable
{
    internal string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kiln-idx-").FullName;

    /// <summary>The bytes of an IDX file: magic, dims big-endian, data.</summary>
    internal static byte[] Bytes(uint magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return memory.ToArray();
    }

    /// <summary>Writes <paramref name="bytes"/> gzip'd (or plain) as <paramref name="name"/> and returns the path.</summary>
    internal string Write(string name, byte[] bytes, bool gzip = true)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        return path;
    }

    /// <summary>A split of <paramref name="n"/> 28x28 images with pixel (i, p) = (7 i + p) mod 256 and labels i mod 10.</summary>
    internal static (byte[] Images, byte[] Labels) Split(int n, int seed)
    {
        var pixels = new byte[n * 784];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 784; p++) pixels[i * 784 + p] = (byte)((7 * i + p + seed) % 256);
        var labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte)((i + seed) % 10);
        return (pixels, labels);
    }

    /// <summary>The four files of an MNIST-layout dataset under <paramref name="subdirectory"/>.</summary>
    internal void WriteDataset(string subdirectory, int trainCount, int testCount)
    {
        var (trainImages, trainLabels) = Split(trainCount, seed: 0);
        var (testImages, testLabels) = Split(testCount, seed: 3);
        Write(Path.Combine(subdirectory, "train-images-idx3-ubyte.gz"), Bytes(0x803, [trainCount, 28, 28], trainImages));
        Write(Path.Combine(subdirectory, "train-labels-idx1-ubyte.gz"), Bytes(0x801, [trainCount], trainLabels));
        Write(Path.Combine(subdirectory, "t10k-images-idx3-ubyte.gz"), Bytes(0x803, [testCount, 28, 28], testImages));
        Write(Path.Combine(subdirectory, "t10k-labels-idx1-ubyte.gz"), Bytes(0x801, [testCount], testLabels));
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
