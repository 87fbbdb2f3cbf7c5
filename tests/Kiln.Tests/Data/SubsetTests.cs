using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class SubsetTests
{
    [Fact]
    public void Subset_gives_the_items_at_its_indices_in_order()
    {
        var subset = new Subset<Example>(new CountingDataset(10), [7, 2, 2]);
        Assert.Equal(3, subset.Count);
        Assert.Equal([7L, 2L, 2L], Enumerable.Range(0, 3).Select(i => subset[i].Target.Item<long>()));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Subset<Example>(new CountingDataset(3), [0, 3]));
        Assert.Contains("index 3 at position 1 is outside the 3 items", e.Message);
    }

    [Fact]
    public void RandomSplit_partitions_the_items_and_repeats_with_the_seed()
    {
        var dataset = new CountingDataset(100);
        var split = dataset.RandomSplit([80, 20], seed: 5);
        var (train, validation) = (split[0], split[1]);
        Assert.Equal(80, train.Count);
        Assert.Equal(20, validation.Count);
        Assert.Equal(Enumerable.Range(0, 100), train.Indices.Concat(validation.Indices).Order());
        Assert.NotEqual(Enumerable.Range(0, 80), train.Indices);
        Assert.Equal(train.Indices, dataset.RandomSplit([80, 20], seed: 5)[0].Indices);
        Assert.NotEqual(train.Indices, dataset.RandomSplit([80, 20], seed: 6)[0].Indices);

        var loader = new DataLoader(validation, batchSize: 8);
        Assert.Equal(validation.Indices.Select(i => (long)i), loader.SelectMany(b => b.Target.ToArray<long>()));

        Assert.Throws<ArgumentException>(() => dataset.RandomSplit([80, 19]));
        Assert.Throws<ArgumentException>(() => dataset.RandomSplit([101, -1]));
        Assert.Empty(dataset.RandomSplit([100, 0], seed: 1)[1].Indices);
    }
}
