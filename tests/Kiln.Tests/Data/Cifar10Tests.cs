using System.Diagnostics;
using System.Text;
using Kiln.Data;
using Xunit.Abstractions;

namespace Kiln.Tests.Data;

public sealed class Cifar10Tests(ITestOutputHelper output)
{
    private static readonly LocatorOptions Offline = new(Home: null, SystemRoot: null, Downloader: null);

    private static void AssertSynthetic(Cifar10 data, int records)
    {
        Assert.Equal(new Shape(5 * records, 3, 32, 32), data.TrainImages.Shape);
        Assert.Equal(new Shape(records, 3, 32, 32), data.TestImages.Shape);
        var trainLabels = data.TrainLabels.ToArray<long>();
        var train = data.TrainImages.ToArray<float>();
        for (int f = 0; f < 5; f++)
            for (int r = 0; r < records; r++)
            {
                int item = f * records + r;
                Assert.Equal(CifarFiles.Label(f, r), trainLabels[item]);
                for (int p = 0; p < 3072; p += 97) Assert.Equal(CifarFiles.Pixel(f, r, p) / 255f, train[item * 3072 + p]);
            }
        var testLabels = data.TestLabels.ToArray<long>();
        var test = data.TestImages.ToArray<float>();
        for (int r = 0; r < records; r++)
        {
            Assert.Equal(CifarFiles.Label(5, r), testLabels[r]);
            Assert.Equal(CifarFiles.Pixel(5, r, 3071) / 255f, test[r * 3072 + 3071]);
        }
    }

    [Fact]
    public void Cifar10_reads_the_extracted_folder()
    {
        using var files = new CifarFiles();
        var folder = files.WriteFolder("cifar-10-batches-bin", CifarFiles.Batches(3));
        using var data = Cifar10.Load(files.Directory, Offline);
        Assert.Equal(folder, data.Directory);
        AssertSynthetic(data, 3);
    }

    [Fact]
    public void Cifar10_reads_the_tar_gz_given_or_found_without_extracting_it()
    {
        using var files = new CifarFiles();
        var archive = files.Write("cifar-10/cifar-10-binary.tar.gz", CifarFiles.Archive(CifarFiles.Batches(2)));
        using (var data = Cifar10.Load(archive, Offline))
        {
            Assert.Equal(archive, data.Directory);
            AssertSynthetic(data, 2);
        }
        using (var data = Cifar10.Load(files.Directory, Offline))
        {
            Assert.Equal(archive, data.Directory);
            AssertSynthetic(data, 2);
        }
        Assert.Equal(["cifar-10-binary.tar.gz"], Directory.GetFiles(Path.GetDirectoryName(archive)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Cifar10_reads_archives_written_by_GNU_tar_in_each_of_its_formats()
    {
        // The published archive was made with GNU tar, not with .NET's TarWriter that the other tests use.
        using var files = new CifarFiles();
        files.WriteFolder("source/cifar-10-batches-bin", CifarFiles.Batches(2));
        foreach (var format in new[] { "gnu", "oldgnu", "ustar", "pax" })
        {
            var archive = Path.Combine(files.Directory, format + ".tar.gz");
            Process tar;
            try
            {
                tar = Process.Start(new ProcessStartInfo("tar", ["--format=" + format, "-czf", archive, "-C", Path.Combine(files.Directory, "source"), "cifar-10-batches-bin"]))!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                output.WriteLine("NOT RUN: no tar command");
                return;
            }
            tar.WaitForExit();
            Assert.Equal(0, tar.ExitCode);
            using var data = Cifar10.Load(archive, Offline);
            AssertSynthetic(data, 2);
        }
    }

    [Fact]
    public void Cifar10_items_are_HWC_bytes_and_ToTensor_gives_the_CHW_floats()
    {
        using var files = new CifarFiles();
        files.WriteFolder("cifar-10-batches-bin", CifarFiles.Batches(2));
        using var data = Cifar10.Load(files.Directory, Offline);
        var train = data.Train();
        Assert.Equal(10, train.Count);
        var (image, label) = train[7]; // file 3, record 1
        Assert.Equal(new Shape(32, 32, 3), image.Shape);
        Assert.Equal(DType.UInt8, image.DType);
        Assert.Equal(CifarFiles.Label(3, 1), label.Item<long>());
        var hwc = image.Contiguous().ToArray<byte>();
        for (int h = 0; h < 32; h += 5)
            for (int w = 0; w < 32; w += 3)
                for (int c = 0; c < 3; c++) Assert.Equal(CifarFiles.Pixel(3, 1, c * 1024 + h * 32 + w), hwc[(h * 32 + w) * 3 + c]);

        var floats = data.Test(new ToTensor());
        var loader = new DataLoader(floats, batchSize: 2);
        int batches = loader.Count;
        Assert.Equal(1, batches);
        using var scope = Engine.Scope();
        var (x, y) = loader.First();
        Assert.Equal(new Shape(2, 3, 32, 32), x.Shape);
        Assert.Equal(new long[] { CifarFiles.Label(5, 0), CifarFiles.Label(5, 1) }, y.ToArray<long>());
        Assert.Equal(data.TestImages.ToArray<float>(), x.ToArray<float>());
    }

    [Fact]
    public void Cifar10_refuses_files_that_are_not_whole_records_and_bad_labels()
    {
        using var files = new CifarFiles();
        var batches = CifarFiles.Batches(1);
        batches[2] = (batches[2].Name, batches[2].Bytes[..^5]);
        files.WriteFolder("short", batches);
        var e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(Path.Combine(files.Directory, "short"), Offline));
        Assert.Contains("data_batch_3.bin: 3068 bytes is not a whole number of 3073-byte CIFAR-10 records", e.Message);

        batches = CifarFiles.Batches(2);
        batches[5].Bytes[3073] = 10;
        files.WriteFolder("label", batches);
        e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(Path.Combine(files.Directory, "label"), Offline));
        Assert.Contains("test_batch.bin: record 1 has label 10, outside 0..9", e.Message);

        batches = CifarFiles.Batches(1);
        batches[0] = (batches[0].Name, []);
        files.WriteFolder("empty", batches);
        e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(Path.Combine(files.Directory, "empty"), Offline));
        Assert.Contains("data_batch_1.bin: holds no records", e.Message);
    }

    [Fact]
    public void Cifar10_refuses_an_archive_that_lacks_a_batch_or_is_truncated()
    {
        using var files = new CifarFiles();
        var archive = files.Write("lacking.tar.gz", CifarFiles.Archive(CifarFiles.Batches(1).Where(f => f.Name != "test_batch.bin")));
        var e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(archive, Offline));
        Assert.Contains("the archive lacks test_batch.bin", e.Message);

        var whole = CifarFiles.Archive(CifarFiles.Batches(1));
        var truncated = files.Write("truncated.tar.gz", whole[..(whole.Length / 2)]);
        e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(truncated, Offline));
        Assert.Contains(truncated, e.Message);

        var notGzip = files.Write("plain.tar.gz", Encoding.ASCII.GetBytes("this is no archive at all"));
        Assert.Throws<KilnFormatException>(() => Cifar10.Load(notGzip, Offline));
    }

    [Fact]
    public void Cifar10_refuses_an_archive_entry_claiming_more_records_than_a_batch_holds_before_reading_it()
    {
        using var files = new CifarFiles();
        // A tar whose data_batch_1.bin header claims 10001 records (30.7 MB) but holds one.
        var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, System.Formats.Tar.TarEntryFormat.Ustar, leaveOpen: true))
            writer.WriteEntry(new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "cifar-10-batches-bin/data_batch_1.bin")
            {
                DataStream = new MemoryStream(CifarFiles.Batch(0, 1)),
            });
        var bytes = tar.ToArray();
        var size = Encoding.ASCII.GetBytes(Convert.ToString(10001L * 3073, 8).PadLeft(11, '0') + "\0");
        size.CopyTo(bytes, 124);
        Encoding.ASCII.GetBytes("        ").CopyTo(bytes, 148);
        int checksum = bytes.Take(512).Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(checksum, 8).PadLeft(6, '0') + "\0 ").CopyTo(bytes, 148);
        var archive = files.Write("liar.tar.gz", IdxFiles.Gzip(bytes));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<KilnFormatException>(() => Cifar10.Load(archive, Offline));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("holds 10001 records; a CIFAR-10 batch file holds at most 10000", e.Message);
        Assert.True(allocated < 8 << 20, $"refusing the archive allocated {allocated} bytes");
    }

    [Fact]
    public void Cifar10_not_found_lists_the_places_and_what_each_needs()
    {
        using var files = new CifarFiles();
        var options = new LocatorOptions(Path.Combine(files.Directory, "home"), Path.Combine(files.Directory, "system"), Downloader: null);
        var e = Assert.Throws<KilnException>(() => Cifar10.Load(Path.Combine(files.Directory, "nowhere"), options));
        Assert.Contains("CIFAR-10 was not found", e.Message);
        Assert.Contains(Path.Combine(files.Directory, "home", ".cache", "kiln", "cifar-10"), e.Message);
        Assert.Contains(Path.Combine(files.Directory, "system", "cifar-10"), e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
    }
}
