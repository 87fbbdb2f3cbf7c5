using System.Security.Cryptography;
using Kiln.Data;

namespace Kiln.Tests.Data;

/// <summary>Tests that set KILN_DATA for the process: they run alone and restore it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Process environment";
}

[Collection(EnvironmentCollection.Name)]
public sealed class DatasetLocatorTests : IDisposable
{
    private readonly IdxFiles _files = new();
    private readonly string? _kilnData = Environment.GetEnvironmentVariable("KILN_DATA");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("KILN_DATA", _kilnData);
        _files.Dispose();
    }

    private string Home => Path.Combine(_files.Directory, "home");
    private string Cache => Path.Combine(Home, ".cache", "kiln", "mnist");
    private string SystemRoot => Path.Combine(_files.Directory, "system");

    /// <summary>The four MNIST-layout files whose first training label is <paramref name="mark"/>, gzip'd, by name.</summary>
    private static Dictionary<string, byte[]> MnistFiles(int trainCount, byte mark)
    {
        var (trainImages, trainLabels) = IdxFiles.Split(trainCount, seed: 0);
        trainLabels[0] = mark;
        var (testImages, testLabels) = IdxFiles.Split(1, seed: 3);
        return new()
        {
            ["train-images-idx3-ubyte.gz"] = IdxFiles.Gzip(IdxFiles.Bytes(0x803, [trainCount, 28, 28], trainImages)),
            ["train-labels-idx1-ubyte.gz"] = IdxFiles.Gzip(IdxFiles.Bytes(0x801, [trainCount], trainLabels)),
            ["t10k-images-idx3-ubyte.gz"] = IdxFiles.Gzip(IdxFiles.Bytes(0x803, [1, 28, 28], testImages)),
            ["t10k-labels-idx1-ubyte.gz"] = IdxFiles.Gzip(IdxFiles.Bytes(0x801, [1], testLabels)),
        };
    }

    private void WriteMnist(string directory, byte mark)
    {
        foreach (var (name, bytes) in MnistFiles(2, mark)) _files.Write(Path.Combine(directory, name), bytes, gzip: false);
    }

    private static DatasetSource SourceFor(Dictionary<string, byte[]> files, params string[] mirrors) => new(
        "Test-MNIST", "mnist", mirrors,
        files.Select(f => new RemoteFile(f.Key, f.Value.Length, Convert.ToHexStringLower(SHA256.HashData(f.Value)))).ToList(),
        "(test hint)");

    private LocatorOptions Options(Downloader? downloader = null) => new(Home, SystemRoot, downloader);

    private static Downloader Downloader() => new(new HttpClient { Timeout = TimeSpan.FromSeconds(20) }, log: null);

    [Fact]
    public void Lookup_order_is_the_path_then_KILN_DATA_then_the_user_cache_then_the_system_directory()
    {
        var given = Path.Combine(_files.Directory, "given");
        var kilnData = Path.Combine(_files.Directory, "kiln-data");
        WriteMnist(given, mark: 1);
        WriteMnist(Path.Combine(kilnData, "mnist"), mark: 2);
        WriteMnist(Cache, mark: 3);
        WriteMnist(Path.Combine(SystemRoot, "mnist"), mark: 4);
        Environment.SetEnvironmentVariable("KILN_DATA", kilnData);

        long FirstLabel(string? root, out string directory)
        {
            using var data = Mnist.Load(root, Options());
            directory = data.Directory;
            return data.TrainLabels.ToArray<long>()[0];
        }

        Assert.Equal(1, FirstLabel(given, out var from));
        Assert.Equal(given, from);
        Assert.Equal(2, FirstLabel(null, out from));
        Assert.Equal(Path.Combine(kilnData, "mnist"), from);
        // KILN_DATA is read at each use.
        Environment.SetEnvironmentVariable("KILN_DATA", null);
        Assert.Equal(3, FirstLabel(null, out from));
        Assert.Equal(Cache, from);
        Directory.Delete(Cache, recursive: true);
        Assert.Equal(4, FirstLabel(null, out from));
        Assert.Equal(Path.Combine(SystemRoot, "mnist"), from);
        // A given path that lacks the files is passed over, and named in no error since a later place has them.
        Assert.Equal(4, FirstLabel(Path.Combine(_files.Directory, "empty"), out _));
    }

    [Fact]
    public void Download_fills_the_user_cache_when_no_place_has_the_files()
    {
        var files = MnistFiles(3, mark: 7);
        using var server = new LocalFileServer();
        foreach (var (name, bytes) in files) server.Add("mnist/" + name, bytes);
        var source = SourceFor(files, server.BaseAddress + "missing/", server.BaseAddress + "mnist/");

        var paths = DatasetLocator.Locate(source, null, Options(Downloader()), MnistFormat.Probe);
        Assert.All(paths, p => Assert.StartsWith(Cache, p));
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Cache, name)));
        Assert.Equal(files.Count, Directory.GetFiles(Cache).Length);
        using (var data = MnistFormat.Read(Cache, paths))
            Assert.Equal(new long[] { 7, 1, 2 }, data.TrainLabels.ToArray<long>());
        Assert.Equal(8, server.Requests); // each file: 404 from the first mirror, then the second

        // Found in the cache now: nothing is fetched again.
        DatasetLocator.Locate(source, null, Options(Downloader()), MnistFormat.Probe);
        Assert.Equal(8, server.Requests);
    }

    [Fact]
    public void A_download_with_the_wrong_hash_is_discarded_and_reported_with_both_hashes()
    {
        var files = MnistFiles(2, mark: 0);
        var source = SourceFor(files);
        using var server = new LocalFileServer();
        foreach (var (name, bytes) in files) server.Add(name, bytes);
        var tampered = (byte[])files["train-labels-idx1-ubyte.gz"].Clone();
        tampered[^1] ^= 0xFF;
        server.Add("train-labels-idx1-ubyte.gz", tampered);
        source = source with { Mirrors = [server.BaseAddress] };

        var e = Assert.Throws<KilnException>(() => DatasetLocator.Locate(source, null, Options(Downloader()), MnistFormat.Probe));
        var expected = source.Files.Single(f => f.Name == "train-labels-idx1-ubyte.gz").Sha256;
        Assert.Contains($"SHA-256 mismatch for train-labels-idx1-ubyte.gz: expected {expected}, got {Convert.ToHexStringLower(SHA256.HashData(tampered))}", e.Message);
        Assert.Contains("Test-MNIST was not found", e.Message);
        Assert.Contains(Cache + " (the user cache): no such directory", e.Message);
        Assert.Contains(Path.Combine(SystemRoot, "mnist"), e.Message);
        Assert.Contains("(test hint)", e.Message);
        Assert.DoesNotContain(Directory.GetFiles(Cache), f => f.EndsWith(".part") || f.EndsWith("train-labels-idx1-ubyte.gz"));
    }

    [Fact]
    public void A_truncated_transfer_is_discarded_and_reported()
    {
        var files = MnistFiles(40, mark: 0);
        var source = SourceFor(files);
        using var server = new LocalFileServer();
        foreach (var (name, bytes) in files) server.Add(name, bytes, truncate: name == "train-images-idx3-ubyte.gz");
        source = source with { Mirrors = [server.BaseAddress] };

        var e = Assert.Throws<KilnException>(() => DatasetLocator.Locate(source, null, Options(Downloader()), MnistFormat.Probe));
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Matches("broke off after|truncated transfer", e.Message);
        Assert.Empty(Directory.GetFiles(Cache));
    }

    [Fact]
    public void A_server_announcing_another_size_or_unreachable_is_reported()
    {
        var files = MnistFiles(2, mark: 0);
        using var server = new LocalFileServer();
        foreach (var (name, bytes) in files) server.Add(name, bytes.Concat(new byte[] { 0 }).ToArray());
        var source = SourceFor(files, server.BaseAddress);
        var e = Assert.Throws<KilnException>(() => DatasetLocator.Locate(source, null, Options(Downloader()), MnistFormat.Probe));
        Assert.Contains($"the server announces {files["train-images-idx3-ubyte.gz"].Length + 1} bytes", e.Message);

        var nowhere = SourceFor(files, server.BaseAddress + "nothing-here/");
        e = Assert.Throws<KilnException>(() => DatasetLocator.Locate(nowhere, null, Options(Downloader()), MnistFormat.Probe));
        Assert.Contains("HTTP 404", e.Message);
    }

    [Fact]
    public void With_downloading_off_nothing_is_fetched_and_the_error_says_so()
    {
        var files = MnistFiles(2, mark: 0);
        using var server = new LocalFileServer();
        var e = Assert.Throws<KilnException>(() => DatasetLocator.Locate(SourceFor(files, server.BaseAddress), null, Options(), MnistFormat.Probe));
        Assert.Contains("Download not attempted (downloading is off)", e.Message);
        Assert.Equal(0, server.Requests);
        Assert.False(Directory.Exists(Cache));
    }
}
