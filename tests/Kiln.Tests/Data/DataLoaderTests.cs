using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class DataLoaderTests
{
    private static List<long[]> Targets<TLoader>(TLoader loader) where TLoader : IEnumerable<Example>
    {
        var batches = new List<long[]>();
        foreach (var (_, y) in loader) batches.Add(y.ToArray<long>());
        return batches;
    }

    [Fact]
    public void DataLoader_without_shuffle_gives_items_in_order_with_a_short_last_batch()
    {
        var loader = new DataLoader(new CountingDataset(10), batchSize: 4);
        Assert.Equal(3, loader.Count);
        var inputs = new List<float[]>();
        var shapes = new List<Shape>();
        foreach (var (x, y) in loader)
        {
            inputs.Add(x.ToArray<float>());
            shapes.Add(x.Shape);
            Assert.Equal(DType.Int64, y.DType);
        }
        Assert.Equal([new Shape(4, 2), new Shape(4, 2), new Shape(2, 2)], shapes);
        Assert.Equal(new float[] { 0, 0, 1, 10, 2, 20, 3, 30 }, inputs[0]);
        Assert.Equal(new float[] { 8, 80, 9, 90 }, inputs[2]);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], Targets(loader));
    }

    [Fact]
    public void DataLoader_drop_last_drops_the_short_batch_and_counts_without_it()
    {
        var loader = new DataLoader(new CountingDataset(10), batchSize: 4, dropLast: true);
        Assert.Equal(2, loader.Count);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], Targets(loader));
        Assert.Equal(2, new DataLoader(new CountingDataset(8), batchSize: 4, dropLast: true).Count);
        Assert.Empty(Targets(new DataLoader(new CountingDataset(3), batchSize: 4, dropLast: true)));
        Assert.Empty(Targets(new DataLoader(new CountingDataset(0), batchSize: 4)));
        int none = new DataLoader(new CountingDataset(0), batchSize: 4).Count;
        Assert.Equal(0, none);
    }

    [Fact]
    public void DataLoader_shuffle_with_a_seed_is_a_permutation_repeated_by_the_seed_and_new_each_epoch()
    {
        List<long> Flat(DataLoader loader) => Targets(loader).SelectMany(b => b).ToList();
        var a = new DataLoader(new CountingDataset(50), batchSize: 7, shuffle: true, seed: 42);
        var b = new DataLoader(new CountingDataset(50), batchSize: 7, shuffle: true, seed: 42);
        var epoch0 = Flat(a);
        var epoch1 = Flat(a);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), epoch1.Order());
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), epoch0);
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch0, Flat(b));
        Assert.Equal(epoch1, Flat(b));
        Assert.Equal(2, a.Epoch);

        a.Epoch = 1;
        Assert.Equal(epoch1, Flat(a));
        Assert.NotEqual(epoch0, Flat(new DataLoader(new CountingDataset(50), batchSize: 7, shuffle: true, seed: 43)));
    }

    [Fact]
    public void DataLoader_shuffle_visits_every_position_about_equally_often()
    {
        // Item 0 should land in each of 8 positions about 1/8 of the time over many epochs.
        var loader = new DataLoader(new CountingDataset(8), batchSize: 8, shuffle: true, seed: 7);
        var counts = new int[8];
        for (int epoch = 0; epoch < 800; epoch++)
            foreach (var (_, y) in loader) counts[Array.IndexOf(y.ToArray<long>(), 0L)]++;
        Assert.All(counts, c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void DataLoader_custom_collate_receives_the_items_of_each_batch()
    {
        var seen = new List<int>();
        var loader = new DataLoader<Example, Tensor>(new CountingDataset(5), batchSize: 2, collate: items =>
        {
            lock (seen) seen.Add(items.Count);
            return Tensor.Stack(items.Select(e => e.Target).ToList()) * 100;
        });
        Assert.Equal(3, loader.Count);
        var batches = loader.Select(t => t.ToArray<long>()).ToList();
        Assert.Equal([[0, 100], [200, 300], [400]], batches);
        Assert.Equal([2, 2, 1], seen);
    }

    [Fact]
    public void DataLoader_collate_can_return_tuples_and_arrays_of_tensors()
    {
        var loader = new DataLoader<Example, (Tensor Sum, Tensor[] Parts)>(new CountingDataset(4), batchSize: 2,
            collate: items => (Tensor.Stack(items.Select(e => e.Input).ToList()).Sum(1), items.Select(e => e.Target.Clone()).ToArray()));
        var sums = new List<float[]>();
        var parts = new List<long>();
        foreach (var (sum, array) in loader)
        {
            sums.Add(sum.ToArray<float>());
            parts.AddRange(array.Select(p => p.Item<long>()));
        }
        Assert.Equal([[0f, 11f], [22f, 33f]], sums);
        Assert.Equal([0L, 1, 2, 3], parts);
    }

    [Fact]
    public void DataLoader_gathers_a_tensor_dataset_with_index_select_and_matches_stacking_items()
    {
        var inputs = Tensor.From<float>(Enumerable.Range(0, 33).Select(i => i * 0.5f).ToArray(), 11, 3);
        var targets = Tensor.Arange(11);
        var dataset = new TensorDataset(inputs, targets);
        var fast = new DataLoader(dataset, batchSize: 4, shuffle: true, seed: 3);
        var slow = new DataLoader(dataset, batchSize: 4, shuffle: true, seed: 3, collate: DataLoader.DefaultCollate);
        Assert.True(fast.GathersBatches);
        Assert.False(slow.GathersBatches);
        Assert.False(new DataLoader(new TensorDataset(inputs, targets, new Lambda(x => x * 2)), batchSize: 4).GathersBatches);
        var a = fast.Select(e => (e.Input.Shape, e.Input.ToArray<float>(), e.Target.Shape, e.Target.ToArray<long>())).ToList();
        var b = slow.Select(e => (e.Input.Shape, e.Input.ToArray<float>(), e.Target.Shape, e.Target.ToArray<long>())).ToList();
        Assert.Equal(3, a.Count);
        Assert.Equal(b.Count, a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(b[i].Item1, a[i].Item1);
            Assert.Equal(b[i].Item2, a[i].Item2);
            Assert.Equal(b[i].Item3, a[i].Item3);
            Assert.Equal(b[i].Item4, a[i].Item4);
        }
        // Row r of the batch is row target[r] of the inputs.
        foreach (var (shape, values, _, rows) in a)
            for (int r = 0; r < rows.Length; r++)
                for (int c = 0; c < 3; c++) Assert.Equal((rows[r] * 3 + c) * 0.5f, values[r * 3 + c]);
    }

    [Fact]
    public void DataLoader_batches_of_one_and_scalar_targets_have_the_stacked_shapes()
    {
        var loader = new DataLoader(new CountingDataset(2), batchSize: 1);
        foreach (var (x, y) in loader)
        {
            Assert.Equal(new Shape(1, 2), x.Shape);
            Assert.Equal(new Shape(1), y.Shape);
        }
    }

    [Fact]
    public void DataLoader_disposes_each_batch_when_the_enumeration_moves_on()
    {
        var loader = new DataLoader(new CountingDataset(6), batchSize: 2);
        var seen = new List<Example>();
        foreach (var batch in loader)
        {
            Assert.All(seen, b => Assert.True(b.Input.IsDisposed && b.Target.IsDisposed));
            Assert.False(batch.Input.IsDisposed);
            seen.Add(batch);
        }
        Assert.Equal(3, seen.Count);
        Assert.All(seen, b => Assert.True(b.Input.IsDisposed));
    }

    [Fact]
    public void DataLoader_First_hands_the_batch_to_the_callers_scope()
    {
        var loader = new DataLoader(new CountingDataset(6), batchSize: 2);
        Example first;
        using (Engine.Scope())
        {
            first = loader.First();
            Assert.False(first.Input.IsDisposed);
            Assert.Equal(new long[] { 0, 1 }, first.Target.ToArray<long>());
        }
        Assert.True(first.Input.IsDisposed && first.Target.IsDisposed);
    }

    [Fact]
    public void DataLoader_abandoned_outside_any_scope_disposes_its_current_batch()
    {
        var loader = new DataLoader(new CountingDataset(6), batchSize: 2, numWorkers: 2);
        Example last = default;
        foreach (var batch in loader)
        {
            last = batch;
            break;
        }
        Assert.True(last.Input.IsDisposed && last.Target.IsDisposed);
    }

    [Fact]
    public void DataLoader_tensors_made_while_fetching_items_do_not_join_the_callers_scope()
    {
        var loader = new DataLoader(new CountingDataset(6, transform: new Lambda(x => x * 2)), batchSize: 3);
        using var scope = Engine.Scope();
        foreach (var (x, _) in loader) Assert.Equal(new Shape(3, 2), x.Shape);
        Assert.Equal(0, scope.Count);
    }

    [Fact]
    public void DataLoader_rejects_bad_arguments()
    {
        var data = new CountingDataset(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(data, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(data, numWorkers: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(data, prefetchFactor: 0));
        Assert.Throws<ArgumentNullException>(() => new DataLoader(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(data).Epoch = -1);
    }

    [Fact]
    public void Dataset_indexer_checks_the_range()
    {
        var data = new CountingDataset(3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => data[3]);
        Assert.Contains("index 3 is outside the 3 items", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => data[-1]);
        Assert.Equal(0, data.Calls);
    }

    [Fact]
    public void TensorDataset_items_are_rows_and_mismatched_lengths_are_refused()
    {
        var inputs = Tensor.From<float>([1, 2, 3, 4, 5, 6], 3, 2);
        var dataset = new TensorDataset(inputs, Tensor.From<long>([7, 8, 9]));
        Assert.Equal(3, dataset.Count);
        var (x, y) = dataset[1];
        Assert.Equal(new float[] { 3, 4 }, x.ToArray<float>());
        Assert.Equal(8L, y.Item<long>());
        var e = Assert.Throws<KilnShapeException>(() => new TensorDataset(inputs, Tensor.From<long>([1, 2])));
        Assert.Contains("inputs [3, 2] hold 3 items but targets [2] hold 2", e.Message);
        Assert.Throws<KilnShapeException>(() => new TensorDataset(Tensor.Scalar(1), Tensor.Scalar(2)));
    }

    [Fact]
    public void TensorDataset_applies_its_transforms_to_each_item()
    {
        var dataset = new TensorDataset(Tensor.From<float>([1, 2, 3, 4], 2, 2), Tensor.From<long>([5, 6]),
            new Lambda(x => x * 10), new Lambda(y => y + 1));
        var (x, y) = dataset[1];
        Assert.Equal(new float[] { 30, 40 }, x.ToArray<float>());
        Assert.Equal(7L, y.Item<long>());
    }
}
