using Kiln.IO;

namespace Kiln.Tests.IO.TensorBoard;

public sealed class HistogramTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-tensorboard-histo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TbHistogram WriteAndRead(string dir, Action<SummaryWriter> add)
    {
        string path;
        using (var writer = new SummaryWriter(dir))
        {
            path = writer.FilePath;
            add(writer);
        }
        var events = TestEventReader.ReadFile(path);
        Assert.Equal(2, events.Count);
        return Assert.Single(events[1].Summary!).Histogram!;
    }

    // Bucket i holds limit[i-1] <= v < limit[i] (the first from -double.MaxValue); a value at or above every limit is in the last.
    private static void AssertEveryValueInItsBucket(HistogramSummary h, IEnumerable<double> values)
        => AssertEveryValueInItsBucket(new TbHistogram(h.Min, h.Max, h.Num, h.Sum, h.SumSquares, h.BucketLimits, h.Buckets), values);

    private static void AssertEveryValueInItsBucket(TbHistogram h, IEnumerable<double> values)
    {
        var counts = new double[h.Buckets.Length];
        foreach (double v in values)
        {
            int k = Array.FindIndex(h.BucketLimits, limit => v < limit);
            counts[k < 0 ? counts.Length - 1 : k]++;
        }
        Assert.Equal(counts, h.Buckets);
        Assert.Equal(h.Num, h.Buckets.Sum());
    }

    [Fact]
    public void AddHistogram_writes_exact_statistics_and_tensorflow_default_buckets()
    {
        double[] values = [0.5, -1, 2, 2, 0, 1e-13, 3e15];
        var h = WriteAndRead(_dir, w => w.AddHistogram("w", values, step: 5));

        Assert.Equal((-1.0, 3e15, 7.0), (h.Min, h.Max, h.Num));
        Assert.Equal(values.Sum(), h.Sum);
        Assert.Equal(values.Sum(v => v * v), h.SumSquares);
        Assert.Equal(h.BucketLimits.Length, h.Buckets.Length);
        Assert.Equal(double.MaxValue, h.BucketLimits[^1]);
        Assert.True(h.BucketLimits.Zip(h.BucketLimits.Skip(1)).All(p => p.First < p.Second), "limits increase");
        for (int i = 1; i < h.Buckets.Length; i++)
            Assert.False(h.Buckets[i] == 0 && h.Buckets[i - 1] == 0, $"empty buckets {i - 1} and {i} were not merged");
        AssertEveryValueInItsBucket(h, values);
        // 0 and 1e-13 share the first bucket above zero, [0, 1e-12); the two 2s share theirs.
        Assert.Equal(2.0, h.Buckets[Array.IndexOf(h.BucketLimits, 1e-12)]);
        Assert.Contains(2.0, h.Buckets.Where((_, i) => h.BucketLimits[i] > 2 && h.BucketLimits[i] < 2.2));
    }

    [Fact]
    public void Default_buckets_are_tensorflows_exponential_limits()
    {
        var h = HistogramSummary.Create([1.0], null, "test");
        // Merged: the empty run below 1, the bucket holding 1, the empty run above up to double.MaxValue.
        Assert.Equal([0.0, 1.0, 0.0], h.Buckets);
        double upper = h.BucketLimits[1], lower = h.BucketLimits[0];
        Assert.InRange(lower, 0.9, 1.0);
        Assert.InRange(upper, 1.0, 1.1);
        Assert.Equal(1.1, upper / lower, 12);
        double v = 1e-12;
        while (v <= 1.0) v *= 1.1;
        Assert.Equal(v, upper);
    }

    [Fact]
    public void Default_buckets_hold_every_value_of_random_data_of_any_scale()
    {
        var random = new Random(12345);
        var values = Enumerable.Range(0, 5000).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-15, 18))).ToArray();
        values[0] = double.MaxValue;
        values[1] = -double.MaxValue;
        values[2] = 0;
        var h = HistogramSummary.Create(values, null, "test");
        Assert.Equal(5000.0, h.Buckets.Sum());
        // double.MaxValue cannot be below a limit: it lands in the last bucket, as TensorFlow clamps it.
        AssertEveryValueInItsBucket(h, values);
        Assert.Equal((double.MaxValue, 1.0), (h.BucketLimits[^1], h.Buckets[^1]));
    }

    [Fact]
    public void A_bin_count_gives_equal_width_bins_between_min_and_max()
    {
        var h = WriteAndRead(_dir, w => w.AddHistogram("w", new float[] { 0, 1, 2, 3, 4, 5, 6, 7 }, bins: 4));
        Assert.Equal([1.75, 3.5, 5.25, 7.0], h.BucketLimits);
        Assert.Equal([2.0, 2.0, 2.0, 2.0], h.Buckets);
        Assert.Equal((0.0, 7.0, 8.0, 28.0, 140.0), (h.Min, h.Max, h.Num, h.Sum, h.SumSquares));

        var same = HistogramSummary.Create([3, 3, 3], 2, "test");
        Assert.Equal([3.0, 3.5], same.BucketLimits);
        Assert.Equal([0.0, 3.0], same.Buckets);

        var random = new Random(3);
        var values = Enumerable.Range(0, 1000).Select(_ => random.NextDouble() * 10 - 3).ToArray();
        var h30 = HistogramSummary.Create(values, 30, "test");
        Assert.Equal(30, h30.Buckets.Length);
        Assert.Equal(values.Max(), h30.BucketLimits[^1]);
        var counts = new double[30];
        foreach (double v in values)
        {
            int k = Array.FindIndex(h30.BucketLimits, limit => v < limit);
            counts[k < 0 ? 29 : k]++;
        }
        Assert.Equal(counts, h30.Buckets);
    }

    [Fact]
    public void AddHistogram_takes_a_tensor_of_any_dtype()
    {
        using var t = Tensor.From([5L, -2L, 7L, 5L], 2, 2);
        var h = WriteAndRead(_dir, w => w.AddHistogram("ints", t, step: 1));
        Assert.Equal((-2.0, 7.0, 4.0, 15.0, 103.0), (h.Min, h.Max, h.Num, h.Sum, h.SumSquares));
        AssertEveryValueInItsBucket(h, [5, -2, 7, 5]);
    }

    [Fact]
    public void AddHistogram_refuses_no_values_nan_and_a_bin_count_below_one()
    {
        using var writer = new SummaryWriter(_dir);
        Assert.Contains("at least one value", Assert.Throws<ArgumentException>(() => writer.AddHistogram("w", ReadOnlySpan<double>.Empty)).Message);
        var e = Assert.Throws<ArgumentException>(() => writer.AddHistogram("w", [1.0, double.NaN, double.PositiveInfinity]));
        Assert.Contains("2 of 3 values are NaN or infinite", e.Message);
        Assert.Contains("\"w\"", e.Message);
        Assert.Throws<ArgumentException>(() => writer.AddHistogram("w", [1.0], bins: 0));
    }
}
