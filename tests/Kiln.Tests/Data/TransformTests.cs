using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class TransformTests
{
    private static Tensor Bytes(byte[] values, params int[] shape) => Tensor.From<byte>(values, shape);

    [Fact]
    public void ToTensor_turns_HWC_bytes_into_CHW_floats_divided_by_255()
    {
        var hwc = new byte[] { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255 }; // [2, 2, 3]
        var chw = new ToTensor().Apply(Bytes(hwc, 2, 2, 3));
        Assert.Equal(DType.Float32, chw.DType);
        Assert.Equal(new Shape(3, 2, 2), chw.Shape);
        var expected = new float[12];
        for (int c = 0; c < 3; c++)
            for (int h = 0; h < 2; h++)
                for (int w = 0; w < 2; w++) expected[c * 4 + h * 2 + w] = hwc[(h * 2 + w) * 3 + c] / 255f;
        Assert.Equal(expected, chw.ToArray<float>());
        Assert.Equal(1f, chw.ToArray<float>()[11]);
    }

    [Fact]
    public void ToTensor_reads_grayscale_HW_and_channels_first_images()
    {
        var gray = new ToTensor().Apply(Bytes([0, 51, 102, 153, 204, 255], 2, 3));
        Assert.Equal(new Shape(1, 2, 3), gray.Shape);
        Assert.Equal(new[] { 0f, 51 / 255f, 102 / 255f, 153 / 255f, 204 / 255f, 1f }, gray.ToArray<float>());
        var chw = new ToTensor(ImageLayout.Chw).Apply(Bytes([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2));
        Assert.Equal(new Shape(2, 2, 2), chw.Shape);
        Assert.Equal(Enumerable.Range(1, 8).Select(v => v / 255f), chw.ToArray<float>());
    }

    [Fact]
    public void ToTensor_converts_a_batch_of_HWC_or_CHW_images_as_it_converts_each_image()
    {
        var values = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray(); // 2 images of 2 x 2 x 3
        using var hwc = Bytes(values, 2, 2, 2, 3);
        using var batch = new ToTensor().Apply(hwc);
        Assert.Equal(new Shape(2, 3, 2, 2), batch.Shape);
        for (int n = 0; n < 2; n++)
        {
            using var one = new ToTensor().Apply(Bytes(values[(n * 12)..((n + 1) * 12)], 2, 2, 3));
            using var row = batch.Select(0, n);
            Assert.Equal(one.ToArray<float>(), row.ToArray<float>());
        }
        using var chw = new ToTensor(ImageLayout.Chw).Apply(Bytes(values, 2, 3, 2, 2));
        Assert.Equal(new Shape(2, 3, 2, 2), chw.Shape);
        Assert.Equal(values.Select(v => v / 255f), chw.ToArray<float>());
        var e = Assert.Throws<KilnShapeException>(() => new ToTensor(ImageLayout.Chw).Apply(Bytes(values, 1, 2, 3, 2, 2)));
        Assert.Contains("[C, H, W] or a batch [N, C, H, W]", e.Message);
    }

    [Fact]
    public void ToTensor_refuses_floats_and_other_ranks()
    {
        var e = Assert.Throws<KilnException>(() => new ToTensor().Apply(Tensor.Zeros([2, 2, 1])));
        Assert.Contains("expects a uint8 image, got float32 [2, 2, 1]", e.Message);
        Assert.Throws<KilnShapeException>(() => new ToTensor().Apply(Bytes([1, 2], 2)));
    }

    [Fact]
    public void Normalize_subtracts_the_mean_and_divides_by_the_std_per_channel()
    {
        float[] values = [1, 2, 3, 4, 5, 6, 7, 8]; // [2, 2, 2]
        var output = new Normalize([0.5, 2], [2, 0.25]).Apply(Tensor.From<float>(values, 2, 2, 2)).ToArray<float>();
        float[] mean = [0.5f, 2f], std = [2f, 0.25f];
        for (int i = 0; i < 8; i++) Assert.Equal((values[i] - mean[i / 4]) / std[i / 4], output[i]);

        var one = new Normalize([1], [2]).Apply(Tensor.From<double>([1, 3, 5, 7, 9, 11], 3, 1, 2)).ToArray<double>();
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5.0 }, one);
    }

    [Fact]
    public void Normalize_refuses_a_zero_std_wrong_channel_counts_and_bytes()
    {
        Assert.Throws<ArgumentException>(() => new Normalize([0.5], [0]));
        Assert.Throws<ArgumentException>(() => new Normalize([0.5, 0.5], [1]));
        var e = Assert.Throws<KilnShapeException>(() => new Normalize([0, 0], [1, 1]).Apply(Tensor.Zeros([3, 2, 2])));
        Assert.Contains("has 3 channels but 2 means", e.Message);
        Assert.Throws<KilnException>(() => new Normalize([0], [1]).Apply(Bytes([1, 2, 3, 4], 1, 2, 2)));
    }

    [Fact]
    public void RandomCrop_without_padding_to_the_full_size_is_the_identity()
    {
        var image = Tensor.From<float>(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 1, 3, 4);
        var crop = new RandomCrop(3);
        var e = Assert.Throws<KilnShapeException>(() => new RandomCrop(5).Apply(image));
        Assert.Contains("a 5 x 5 crop does not fit in the image [1, 3, 4] padded by 0", e.Message);
        var same = new RandomCrop(3, padding: 0).Apply(Tensor.From<float>(Enumerable.Range(0, 9).Select(i => (float)i).ToArray(), 1, 3, 3));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (float)i), same.ToArray<float>());
        Assert.Equal(new Shape(1, 3, 3), crop.Apply(image).Shape);
    }

    [Fact]
    public void RandomCrop_with_zero_padding_gives_every_window_of_the_padded_image_equally_often()
    {
        // 3x3 image 1..9 padded by 1 to 5x5; the 3x3 windows of the padded image, computed by hand.
        var image = Tensor.From<float>([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 3, 3);
        var padded = new float[5, 5];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) padded[r + 1, c + 1] = 1 + r * 3 + c;
        var windows = new List<float[]>();
        for (int top = 0; top < 3; top++)
            for (int left = 0; left < 3; left++)
            {
                var w = new float[9];
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 3; c++) w[r * 3 + c] = padded[top + r, left + c];
                windows.Add(w);
            }
        var counts = new int[9];
        var crop = new RandomCrop(3, padding: 1);
        var dataset = new TensorDataset(image.Expand(900, 3, 3).Reshape(900, 1, 3, 3).Contiguous(), Tensor.Arange(900), crop);
        foreach (var (x, _) in new DataLoader(dataset, batchSize: 100, seed: 11))
        {
            var values = x.ToArray<float>();
            for (int i = 0; i < 100; i++)
            {
                var item = values.AsSpan(i * 9, 9).ToArray();
                int match = windows.FindIndex(w => w.SequenceEqual(item));
                Assert.True(match >= 0, $"crop [{string.Join(", ", item)}] is no window of the padded image");
                counts[match]++;
            }
        }
        Assert.All(counts, c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void RandomCrop_crops_the_last_two_dimensions_of_every_channel_alike()
    {
        // Channel 0 holds 1..16 and channel 1 the same plus 100, so a shared window keeps that relation.
        var values = Enumerable.Range(1, 16).Select(i => (float)i).Concat(Enumerable.Range(1, 16).Select(i => i + 100f)).ToArray();
        var image = Tensor.From<float>(values, 2, 4, 4);
        var crop = new RandomCrop(3, padding: 1);
        var dataset = new TensorDataset(image.Expand(20, 2, 4, 4).Contiguous(), Tensor.Arange(20), crop);
        for (int i = 0; i < 20; i++)
        {
            var output = dataset[i].Input;
            Assert.Equal(new Shape(2, 3, 3), output.Shape);
            var v = output.ToArray<float>();
            for (int p = 0; p < 9; p++) Assert.True(v[p] == 0 ? v[9 + p] == 0 : v[9 + p] == v[p] + 100, $"item {i}: [{string.Join(", ", v)}]");
        }
    }

    [Fact]
    public void RandomHorizontalFlip_mirrors_the_last_dimension_with_probability_p()
    {
        var image = Tensor.From<float>([1, 2, 3, 4, 5, 6], 1, 2, 3);
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4 }, new RandomHorizontalFlip(1).Apply(image).ToArray<float>());
        Assert.Same(image, new RandomHorizontalFlip(0).Apply(image));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHorizontalFlip(1.5));

        var dataset = new TensorDataset(image.Expand(1000, 2, 3).Contiguous(), Tensor.Arange(1000), new RandomHorizontalFlip(0.3));
        int flipped = 0;
        foreach (var (x, _) in new DataLoader(dataset, batchSize: 250, seed: 4))
        {
            var values = x.ToArray<float>();
            for (int i = 0; i < 250; i++) if (values[i * 6] == 3) flipped++;
        }
        Assert.InRange(flipped, 250, 350);
    }

    [Fact]
    public void Compose_runs_in_order_and_disposes_only_the_tensors_it_made()
    {
        var made = new List<Tensor>();
        var record = new Lambda(x => { made.Add(x); return x * 1; });
        var compose = new Compose(new ToTensor(), record, new Normalize([0.5], [0.5]));
        var input = Bytes([0, 255, 51, 102], 2, 2, 1);
        var output = compose.Apply(input);
        Assert.Equal(new Shape(1, 2, 2), output.Shape);
        Assert.Equal(new[] { (0f - 0.5f) / 0.5f, (1f - 0.5f) / 0.5f, (51 / 255f - 0.5f) / 0.5f, (102 / 255f - 0.5f) / 0.5f }, output.ToArray<float>());
        Assert.True(made[0].IsDisposed);
        Assert.False(input.IsDisposed);
        Assert.Same(input, new Compose().Apply(input));
        Assert.Same(input, new Compose(new RandomHorizontalFlip(0)).Apply(input));
        Assert.Equal(3, compose.Transforms.Count);
    }

    [Fact]
    public void Random_transforms_in_a_loader_depend_on_seed_epoch_and_index_only()
    {
        var image = Tensor.From<float>(Enumerable.Range(0, 25).Select(i => (float)i).ToArray(), 1, 5, 5);
        var dataset = new TensorDataset(image.Expand(6, 5, 5).Unsqueeze(1).Contiguous(), Tensor.Arange(6),
            new Compose(new RandomCrop(3, padding: 2), new RandomHorizontalFlip()));
        Dictionary<long, float[]> ByIndex(DataLoader loader, int epoch)
        {
            loader.Epoch = epoch;
            var items = new Dictionary<long, float[]>();
            foreach (var (x, y) in loader)
            {
                var values = x.ToArray<float>();
                var ids = y.ToArray<long>();
                for (int i = 0; i < ids.Length; i++) items[ids[i]] = values.AsSpan(i * 9, 9).ToArray();
            }
            return items;
        }
        // Shuffled or not, in batches of 1 or 4, item i of an epoch is augmented the same way.
        var plain = ByIndex(new DataLoader(dataset, batchSize: 1, seed: 8), 3);
        var shuffled = ByIndex(new DataLoader(dataset, batchSize: 4, shuffle: true, seed: 8, numWorkers: 2), 3);
        foreach (var (id, values) in plain) Assert.Equal(values, shuffled[id]);
        var otherEpoch = ByIndex(new DataLoader(dataset, batchSize: 1, seed: 8), 4);
        Assert.Contains(plain.Keys, id => !plain[id].SequenceEqual(otherEpoch[id]));
    }
}
