using Kiln.Data;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Data;

/// <summary>Batches belong to the loader: a training-like loop over 1,000 of them leaves no tensor memory behind.</summary>
[Collection(MemoryCollection.Name)]
public sealed class DataLoaderMemoryTests
{
    [Fact]
    public void A_thousand_gathered_batches_return_memory_to_the_baseline()
    {
        using var inputs = Tensor.From<float>(Enumerable.Range(0, 256 * 8).Select(i => (float)i).ToArray(), 256, 8);
        using var targets = Tensor.Arange(256);
        var loader = new DataLoader(new TensorDataset(inputs, targets), batchSize: 32, shuffle: true, seed: 1);
        long baseline = MemoryCollection.Settle().BytesInUse;
        int batches = 0;
        double sum = 0;
        while (batches < 1000)
        {
            foreach (var (x, y) in loader)
            {
                using var scope = Engine.Scope();
                sum += (x.Sum() + y.To(DType.Float32).Sum()).Item();
                if (++batches == 1000) break;
            }
        }
        Assert.True(sum > 0);
        Assert.Equal(baseline, Engine.MemoryStats().BytesInUse);
        Assert.Equal(baseline, MemoryCollection.Settle().BytesInUse);
    }

    [Fact]
    public void A_thousand_batches_from_workers_with_transforms_return_memory_to_the_baseline()
    {
        using var images = Tensor.From<float>(Enumerable.Range(0, 64 * 64).Select(i => i / 4096f).ToArray(), 64, 1, 8, 8);
        using var targets = Tensor.Arange(64);
        var dataset = new TensorDataset(images, targets,
            new Compose(new RandomCrop(8, padding: 1), new RandomHorizontalFlip(), new Normalize([0.5], [0.25])));
        var loader = new DataLoader(dataset, batchSize: 8, shuffle: true, seed: 2, numWorkers: 2);
        long baseline = MemoryCollection.Settle().BytesInUse;
        int batches = 0;
        while (batches < 1000)
        {
            foreach (var (x, _) in loader)
            {
                Assert.Equal(new Shape(8, 1, 8, 8), x.Shape);
                if (++batches == 1000) break;
            }
        }
        Assert.Equal(0, loader.RunningWorkers);
        // Tensors are freed on the thread that disposes them; nothing may wait for the finalizer.
        Assert.Equal(baseline, Engine.MemoryStats().BytesInUse);
    }
}
