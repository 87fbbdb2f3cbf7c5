using Kiln.Data;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Data;

[Collection(RandomStateCollection.Name)]
public sealed class DataLoaderSeedTests
{
    private static List<long> Order(DataLoader loader) => loader.SelectMany(e => e.Target.ToArray<long>()).ToList();

    [Fact]
    public void Without_a_seed_the_shuffle_follows_Engine_ManualSeed()
    {
        Engine.ManualSeed(2024);
        var loader = new DataLoader(new CountingDataset(40), batchSize: 8, shuffle: true);
        var first = Order(loader);
        var second = Order(loader);
        Assert.NotEqual(first, second);

        Engine.ManualSeed(2024);
        var again = new DataLoader(new CountingDataset(40), batchSize: 8, shuffle: true, numWorkers: 2);
        Assert.Equal(first, Order(again));
        Assert.Equal(second, Order(again));

        Engine.ManualSeed(2025);
        Assert.NotEqual(first, Order(new DataLoader(new CountingDataset(40), batchSize: 8, shuffle: true)));
    }

    [Fact]
    public void Random_transforms_outside_a_loader_follow_Engine_ManualSeed()
    {
        var image = Tensor.From<float>(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), 1, 4, 4);
        var crop = new RandomCrop(4, padding: 3);
        Engine.ManualSeed(9);
        var a = Enumerable.Range(0, 5).Select(_ => crop.Apply(image).ToArray<float>()).ToList();
        Engine.ManualSeed(9);
        var b = Enumerable.Range(0, 5).Select(_ => crop.Apply(image).ToArray<float>()).ToList();
        Assert.Equal(a, b);
        Assert.True(a.Distinct(new ArrayComparer()).Count() > 1);
    }

    private sealed class ArrayComparer : IEqualityComparer<float[]>
    {
        public bool Equals(float[]? x, float[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(float[] obj) => obj.Length;
    }
}
