using Kiln.Data;
using Xunit.Abstractions;

namespace Kiln.Tests.Data;

public sealed class FashionMnistTests
{
    [Fact]
    public void FashionMnist_loads_files_from_the_given_path_as_scaled_floats_and_int64_labels()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 3, testCount: 2);
        using var data = FashionMnist.Load(files.Directory);

        Assert.Equal(files.Directory, data.Directory);
        Assert.Equal(new Shape(3, 1, 28, 28), data.TrainImages.Shape);
        Assert.Equal(new Shape(2, 1, 28, 28), data.TestImages.Shape);
        Assert.Equal(DType.Float32, data.TrainImages.DType);
        Assert.Equal(DType.Int64, data.TrainLabels.DType);
        Assert.Equal(new long[] { 0, 1, 2 }, data.TrainLabels.ToArray<long>());
        Assert.Equal(new long[] { 3, 4 }, data.TestLabels.ToArray<long>());

        var train = data.TrainImages.ToArray<float>();
        var test = data.TestImages.ToArray<float>();
        for (int i = 0; i < 3; i++)
            for (int p = 0; p < 784; p++) Assert.Equal((7 * i + p) % 256 / 255f, train[i * 784 + p]);
        for (int i = 0; i < 2; i++)
            for (int p = 0; p < 784; p++) Assert.Equal((7 * i + p + 3) % 256 / 255f, test[i * 784 + p]);
    }

    [Fact]
    public void FashionMnist_finds_the_files_in_the_dataset_subdirectory_of_the_given_path()
    {
        using var files = new IdxFiles();
        files.WriteDataset("fashion-mnist", trainCount: 2, testCount: 1);
        using var data = FashionMnist.Load(files.Directory);
        Assert.Equal(Path.Combine(files.Directory, "fashion-mnist"), data.Directory);
        Assert.Equal(2, data.TrainLabels.NumElements);
    }

    [Fact]
    public void Mnist_reads_the_same_format_from_its_own_directory()
    {
        using var files = new IdxFiles();
        files.WriteDataset("mnist", trainCount: 4, testCount: 1);
        using var data = Mnist.Load(files.Directory);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, data.TrainLabels.ToArray<long>());
    }

    [Fact]
    public void FashionMnist_train_and_test_views_give_HWC_bytes_and_labels_for_a_loader()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 5, testCount: 2);
        using var data = FashionMnist.Load(files.Directory, download: false);
        var train = data.Train();
        Assert.Equal(5, train.Count);
        Assert.Equal(2, data.Test().Count);
        var (image, label) = train[3];
        Assert.Equal(new Shape(28, 28, 1), image.Shape);
        Assert.Equal(DType.UInt8, image.DType);
        Assert.Equal(3L, label.Item<long>());
        var pixels = image.Contiguous().ToArray<byte>();
        for (int p = 0; p < 784; p++) Assert.Equal((byte)((7 * 3 + p) % 256), pixels[p]);

        var loader = new DataLoader(data.Train(new ToTensor(), new Lambda(y => y * 10)), batchSize: 5, numWorkers: 2);
        foreach (var (x, y) in loader)
        {
            Assert.Equal(new Shape(5, 1, 28, 28), x.Shape);
            Assert.Equal(data.TrainImages.ToArray<float>(), x.ToArray<float>());
            Assert.Equal(new long[] { 0, 10, 20, 30, 40 }, y.ToArray<long>());
        }
    }

    [Fact]
    public void FashionMnist_views_and_tensors_are_unusable_after_dispose()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 2, testCount: 1);
        var data = FashionMnist.Load(files.Directory, download: false);
        var train = data.Train();
        var labels = data.TrainLabels;
        data.Dispose();
        Assert.True(labels.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => train[0]);
        Assert.Throws<ObjectDisposedException>(() => data.TrainImages);
        Assert.Throws<ObjectDisposedException>(() => data.Test());
    }

    [Fact]
    public void FashionMnist_loaded_inside_a_scope_outlives_it()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 2, testCount: 1);
        FashionMnist data;
        using (Engine.Scope())
        {
            data = FashionMnist.Load(files.Directory, download: false);
            _ = data.TrainImages;
        }
        using (data)
        {
            Assert.Equal(new long[] { 0, 1 }, data.TrainLabels.ToArray<long>());
            Assert.Equal(1568, data.TrainImages.ToArray<float>().Length);
        }
    }

    [FashionMnistFact]
    public void Fashion_mnist_published_hashes_are_those_of_the_files_served_by_zalando()
    {
        // Debian repacks the same deflate streams without the gzip file-name field, so each Debian file is
        // exactly its name plus a NUL shorter than the published one (which is why their hashes differ).
        foreach (var file in FashionMnist.Source.Files)
        {
            var debian = new FileInfo(Path.Combine(FashionMnist.SystemDirectory, file.Name));
            Assert.Equal(file.Size, debian.Length + Path.GetFileNameWithoutExtension(file.Name).Length + 1);
            Assert.Matches("^[0-9a-f]{64}$", file.Sha256);
        }
    }

    [Fact]
    public void Search_places_are_the_given_path_then_KILN_DATA_then_the_user_cache_then_the_system_directory()
    {
        var places = DatasetLocator.SearchPlaces("fashion-mnist", "/given", "/kd", "/home/u", "/usr/share/datasets/fashion-mnist");
        Assert.Equal(
            ["/given", "/given/fashion-mnist", "/kd/fashion-mnist", "/home/u/.cache/kiln/fashion-mnist", "/usr/share/datasets/fashion-mnist"],
            places.Select(p => p.Directory));
        Assert.Equal(["/home/u/.cache/kiln/mnist"], DatasetLocator.SearchPlaces("mnist", null, null, "/home/u", null).Select(p => p.Directory));
    }

    [Fact]
    public void A_missing_dataset_is_reported_with_every_place_searched_and_how_to_install_it()
    {
        using var files = new IdxFiles();
        files.Write("partial/train-images-idx3-ubyte.gz", IdxFiles.Bytes(0x803, [0, 28, 28], []));
        var options = new LocatorOptions(Path.Combine(files.Directory, "home"), Path.Combine(files.Directory, "system"), Downloader: null);
        var e = Assert.Throws<KilnException>(() => FashionMnist.Load(Path.Combine(files.Directory, "partial"), options));
        Assert.Contains("Fashion-MNIST was not found", e.Message);
        foreach (var place in DatasetLocator.SearchPlaces(FashionMnist.Source, Path.Combine(files.Directory, "partial"), options))
            Assert.Contains(place.Directory, e.Message);
        Assert.Contains(Path.Combine(files.Directory, "system", "fashion-mnist"), e.Message);
        Assert.Contains("lacks train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("no such directory", e.Message);
        Assert.Contains("Download not attempted (downloading is off)", e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Labels_outside_0_to_9_and_mismatched_counts_and_sizes_are_refused()
    {
        using var files = new IdxFiles();
        var (images, labels) = IdxFiles.Split(3, seed: 0);
        var imagesPath = files.Write("images.gz", IdxFiles.Bytes(0x803, [3, 28, 28], images));
        labels[2] = 10;
        var e = Assert.Throws<KilnFormatException>(() => MnistFormat.ReadSplit(imagesPath, files.Write("bad-label.gz", IdxFiles.Bytes(0x801, [3], labels))));
        Assert.Contains("label 10 at index 2 is outside 0..9", e.Message);

        e = Assert.Throws<KilnFormatException>(() => MnistFormat.ReadSplit(imagesPath, files.Write("two.gz", IdxFiles.Bytes(0x801, [2], [1, 2]))));
        Assert.Contains("2 labels for the 3 images", e.Message);

        var small = files.Write("small.gz", IdxFiles.Bytes(0x803, [3, 14, 56], images));
        e = Assert.Throws<KilnFormatException>(() => MnistFormat.ReadSplit(small, files.Write("ok.gz", IdxFiles.Bytes(0x801, [3], [1, 2, 3]))));
        Assert.Contains("images are 14 x 56, expected 28 x 28", e.Message);
    }

    [FashionMnistFact]
    public void FashionMnist_from_the_Debian_package_has_60000_and_10000_balanced_items()
    {
        using var data = FashionMnist.Load(FashionMnist.SystemDirectory);
        Assert.Equal(new Shape(60000, 1, 28, 28), data.TrainImages.Shape);
        Assert.Equal(new Shape(10000, 1, 28, 28), data.TestImages.Shape);
        // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
        Assert.All(Counts(data.TrainLabels), c => Assert.Equal(6000, c));
        Assert.All(Counts(data.TestLabels), c => Assert.Equal(1000, c));
        var pixels = data.TrainImages.ToArray<float>();
        Assert.Equal(0f, pixels.Min());
        Assert.Equal(1f, pixels.Max());

        // The first batch of an unshuffled loader over the view is the first 1000 images.
        var loader = new DataLoader(data.Train(new ToTensor()), batchSize: 1000, numWorkers: 2);
        Assert.Equal(60, loader.Count);
        using var scope = Engine.Scope();
        var (x, y) = loader.First();
        // SequenceEqual: xunit's Assert.Equal takes seconds over 784,000 elements.
        Assert.True(pixels.AsSpan(0, 1000 * 784).SequenceEqual(x.ToArray<float>()), "the first batch differs from the first 1000 images");
        Assert.Equal(data.TrainLabels.ToArray<long>()[..1000], y.ToArray<long>());
    }

    private static int[] Counts(Tensor labels)
    {
        var counts = new int[10];
        foreach (var label in labels.ToArray<long>())
        {
            Assert.InRange(label, 0, 9);
            counts[label]++;
        }
        return counts;
    }
}
