using Kiln.Data;

namespace Kiln.Tests.Data;

/// <summary>
/// The uint8 image accessors (TrainPixels, TestPixels) and the batch path built on them: uint8 batches
/// gathered by a loader and converted with ToTensor give exactly the float32 images, bit for bit.
/// </summary>
public sealed class ImagePixelsTests
{
    private static readonly LocatorOptions Offline = new(Home: null, SystemRoot: null, Downloader: null);

    /// <summary>Asserts <paramref name="floats"/> holds exactly byte / 255f of <paramref name="bytes"/>, and that ×255 rounds back to the byte.</summary>
    private static void AssertScaledExactly(ReadOnlySpan<byte> bytes, ReadOnlySpan<float> floats)
    {
        Assert.Equal(bytes.Length, floats.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(floats[i]) != BitConverter.SingleToInt32Bits(bytes[i] / 255f))
                Assert.Fail($"element {i}: byte {bytes[i]} gave {floats[i]:R}, expected {bytes[i] / 255f:R}");
            if ((byte)MathF.Round(floats[i] * 255f) != bytes[i])
                Assert.Fail($"element {i}: {floats[i]:R} x 255 does not round back to {bytes[i]}");
        }
    }

    [Fact]
    public void FashionMnist_pixels_are_the_stored_bytes_and_scale_exactly_to_the_float_images()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 3, testCount: 2);
        using var data = FashionMnist.Load(files.Directory, download: false);

        Assert.Equal(new Shape(3, 1, 28, 28), data.TrainPixels.Shape);
        Assert.Equal(new Shape(2, 1, 28, 28), data.TestPixels.Shape);
        Assert.Equal(DType.UInt8, data.TrainPixels.DType);
        Assert.Equal(DType.UInt8, data.TestPixels.DType);
        Assert.Equal(IdxFiles.Split(3, seed: 0).Images, data.TrainPixels.ToArray<byte>());
        Assert.Equal(IdxFiles.Split(2, seed: 3).Images, data.TestPixels.ToArray<byte>());
        AssertScaledExactly(data.TrainPixels.ToArray<byte>(), data.TrainImages.ToArray<float>());
        AssertScaledExactly(data.TestPixels.ToArray<byte>(), data.TestImages.ToArray<float>());
    }

    [Fact]
    public void Mnist_and_Cifar10_have_the_same_pixel_accessors()
    {
        using (var files = new IdxFiles())
        {
            files.WriteDataset("mnist", trainCount: 4, testCount: 1);
            using var mnist = Mnist.Load(files.Directory);
            Assert.Equal(new Shape(4, 1, 28, 28), mnist.TrainPixels.Shape);
            Assert.Equal(IdxFiles.Split(4, seed: 0).Images, mnist.TrainPixels.ToArray<byte>());
            AssertScaledExactly(mnist.TestPixels.ToArray<byte>(), mnist.TestImages.ToArray<float>());
        }

        using var cifarFiles = new CifarFiles();
        cifarFiles.WriteFolder("cifar-10-batches-bin", CifarFiles.Batches(2));
        using var cifar = Cifar10.Load(cifarFiles.Directory, Offline);
        Assert.Equal(new Shape(10, 3, 32, 32), cifar.TrainPixels.Shape);
        Assert.Equal(new Shape(2, 3, 32, 32), cifar.TestPixels.Shape);
        Assert.Equal(DType.UInt8, cifar.TrainPixels.DType);
        var train = cifar.TrainPixels.ToArray<byte>();
        for (int f = 0; f < 5; f++)
            for (int r = 0; r < 2; r++)
                for (int p = 0; p < 3072; p++) Assert.Equal(CifarFiles.Pixel(f, r, p), train[(f * 2 + r) * 3072 + p]);
        AssertScaledExactly(train, cifar.TrainImages.ToArray<float>());
        AssertScaledExactly(cifar.TestPixels.ToArray<byte>(), cifar.TestImages.ToArray<float>());
    }

    [Fact]
    public void ToTensor_of_a_batch_gives_every_byte_divided_by_255f_bit_for_bit()
    {
        var all = new byte[256];
        for (int i = 0; i < all.Length; i++) all[i] = (byte)i;
        using var batch = Tensor.From<byte>(all, 4, 1, 8, 8);
        using var floats = new ToTensor(ImageLayout.Chw).Apply(batch);
        Assert.Equal(new Shape(4, 1, 8, 8), floats.Shape);
        Assert.Equal(DType.Float32, floats.DType);
        AssertScaledExactly(all, floats.ToArray<float>());
    }

    [Fact]
    public void A_loader_over_pixels_gathers_uint8_batches_that_convert_to_the_float_images_rows()
    {
        using var files = new IdxFiles();
        files.WriteDataset("", trainCount: 10, testCount: 1);
        using var data = FashionMnist.Load(files.Directory, download: false);
        var loader = new DataLoader(new TensorDataset(data.TrainPixels, data.TrainLabels), batchSize: 4, shuffle: true, seed: 7);
        Assert.True(loader.GathersBatches);
        var floats = data.TrainImages.ToArray<float>();
        var toFloat = new ToTensor(ImageLayout.Chw);
        var seen = new List<long>();
        foreach (var (pixels, labels) in loader)
        {
            Assert.Equal(DType.UInt8, pixels.DType);
            Assert.Equal(new Shape(labels.NumElements, 1, 28, 28), pixels.Shape);
            using var x = toFloat.Apply(pixels);
            var got = x.ToArray<float>();
            var rows = labels.ToArray<long>();   // label i mod 10 == index i for these 10 items
            for (int j = 0; j < rows.Length; j++)
                Assert.True(floats.AsSpan((int)rows[j] * 784, 784).SequenceEqual(got.AsSpan(j * 784, 784)), $"row {rows[j]} differs");
            seen.AddRange(rows);
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), seen.Order());
    }

    [FashionMnistFact]
    public void FashionMnist_real_pixels_convert_chunk_by_chunk_to_exactly_the_float_images()
    {
        using var data = FashionMnist.Load(FashionMnist.SystemDirectory);
        Assert.Equal(new Shape(60000, 1, 28, 28), data.TrainPixels.Shape);
        Assert.Equal(new Shape(10000, 1, 28, 28), data.TestPixels.Shape);
        var toFloat = new ToTensor(ImageLayout.Chw);
        var expected = data.TestImages.ToArray<float>();
        for (int start = 0; start < 10000; start += 1000)
        {
            using var scope = Engine.Scope();
            var chunk = toFloat.Apply(data.TestPixels.Narrow(0, start, 1000)).ToArray<float>();
            if (!expected.AsSpan(start * 784, 1000 * 784).SequenceEqual(chunk))
                Assert.Fail($"test images {start}..{start + 999} differ from TestImages");
        }
    }
}
