using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class DataLoaderWorkerTests
{
    private static TensorDataset RandomlyAugmented(int n)
    {
        var images = Tensor.From<float>(Enumerable.Range(0, n * 36).Select(i => (float)i).ToArray(), n, 1, 6, 6);
        return new TensorDataset(images, Tensor.Arange(n), new Compose(new RandomCrop(6, padding: 2), new RandomHorizontalFlip()));
    }

    private static List<(float[] X, long[] Y)> Epochs(DataLoader loader, int epochs)
    {
        var batches = new List<(float[], long[])>();
        for (int e = 0; e < epochs; e++)
            foreach (var (x, y) in loader) batches.Add((x.ToArray<float>(), y.ToArray<long>()));
        return batches;
    }

    [Fact]
    public void Workers_give_the_same_batches_in_the_same_order_as_no_workers_random_transforms_included()
    {
        var dataset = RandomlyAugmented(23);
        var expected = Epochs(new DataLoader(dataset, batchSize: 4, shuffle: true, seed: 5), epochs: 2);
        Assert.Equal(12, expected.Count);
        foreach (int workers in new[] { 1, 3, 8 })
        {
            var loader = new DataLoader(dataset, batchSize: 4, shuffle: true, seed: 5, numWorkers: workers, prefetchFactor: 1);
            var actual = Epochs(loader, epochs: 2);
            Assert.Equal(expected.Count, actual.Count);
            for (int b = 0; b < expected.Count; b++)
            {
                Assert.Equal(expected[b].X, actual[b].X);
                Assert.Equal(expected[b].Y, actual[b].Y);
            }
            Assert.Equal(0, loader.RunningWorkers);
        }
        // The augmentations are random: the two epochs differ, and some items were changed.
        var firstEpoch = expected.Take(6).SelectMany(b => b.X).ToArray();
        var secondEpoch = expected.Skip(6).SelectMany(b => b.X).ToArray();
        Assert.NotEqual(firstEpoch, secondEpoch);
    }

    [Fact]
    public void A_worker_exception_surfaces_on_the_consumer_with_the_dataset_index()
    {
        foreach (int workers in new[] { 0, 2 })
        {
            var loader = new DataLoader(new CountingDataset(20, failAt: 13), batchSize: 4, numWorkers: workers);
            var delivered = new List<long>();
            var e = Assert.Throws<KilnException>(() =>
            {
                foreach (var (_, y) in loader) delivered.AddRange(y.ToArray<long>());
            });
            Assert.Contains("dataset index 13 (batch 3)", e.Message);
            Assert.Contains("item 13 is broken", e.Message);
            Assert.IsType<InvalidOperationException>(e.InnerException);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), delivered);
            Assert.Equal(0, loader.RunningWorkers);
        }
    }

    [Fact]
    public void A_collate_exception_names_the_batch_and_its_indices()
    {
        var loader = new DataLoader<Example, Tensor>(new CountingDataset(6), batchSize: 3, numWorkers: 2,
            collate: items => items.Any(i => i.Target.Item<long>() == 4) ? throw new ArgumentException("no fours") : Tensor.Zeros([1]));
        var e = Assert.Throws<KilnException>(() => loader.ToList());
        Assert.Contains("collating batch 1 (dataset indices 3, 4, 5)", e.Message);
        Assert.Contains("no fours", e.Message);
        Assert.Equal(0, loader.RunningWorkers);
    }

    [Fact]
    public void Breaking_out_of_the_loop_stops_and_joins_the_workers()
    {
        var dataset = new CountingDataset(4000, delayMs: 1);
        var loader = new DataLoader(dataset, batchSize: 4, numWorkers: 3, prefetchFactor: 2);
        int taken = 0;
        foreach (var _ in loader)
        {
            Assert.True(loader.RunningWorkers > 0);
            if (++taken == 2) break;
        }
        Assert.Equal(0, loader.RunningWorkers);
        int calls = dataset.Calls;
        // At most 2 consumed + 3 x 2 prefetched batches were ever started.
        Assert.InRange(calls, 8, 8 * 4);
        Thread.Sleep(50);
        Assert.Equal(calls, dataset.Calls);
    }

    [Fact]
    public void An_enumerator_dropped_without_dispose_stops_its_workers_once_collected()
    {
        var dataset = new CountingDataset(4000, delayMs: 1);
        var loader = new DataLoader(dataset, batchSize: 4, numWorkers: 2);
        StartAndDrop(loader);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (loader.RunningWorkers > 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(10);
        }
        Assert.Equal(0, loader.RunningWorkers);
        Assert.True(dataset.Calls < 4000);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void StartAndDrop(DataLoader loader)
    {
        var enumerator = loader.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        Assert.True(loader.RunningWorkers > 0);
    }

    [Fact]
    public void Workers_prepare_at_most_num_workers_times_prefetch_factor_batches_ahead()
    {
        var dataset = new CountingDataset(400);
        var loader = new DataLoader(dataset, batchSize: 5, numWorkers: 2, prefetchFactor: 2);
        using (var enumerator = loader.GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            Thread.Sleep(100);
            // 1 batch taken + 4 ahead.
            Assert.InRange(dataset.Calls, 5, 25);
        }
        Assert.Equal(0, loader.RunningWorkers);
    }

    [Fact]
    public void Disposing_an_enumeration_that_never_started_starts_no_workers()
    {
        var dataset = new CountingDataset(10);
        var loader = new DataLoader(dataset, batchSize: 2, numWorkers: 4);
        loader.GetEnumerator().Dispose();
        Assert.Equal(0, dataset.Calls);
        Assert.Equal(0, loader.RunningWorkers);
    }

    [Fact]
    public void More_workers_than_batches_still_deliver_every_batch_once()
    {
        var loader = new DataLoader(new CountingDataset(5), batchSize: 2, numWorkers: 6);
        Assert.Equal([[0L, 1], [2L, 3], [4L]], loader.Select(e => e.Target.ToArray<long>()).ToList());
        Assert.Equal(0, loader.RunningWorkers);
    }
}
