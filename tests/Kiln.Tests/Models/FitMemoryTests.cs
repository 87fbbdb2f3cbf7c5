using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Fit keeps no tensor of a step past the step: the memory in use is the same at every epoch's end.</summary>
[Collection(MemoryCollection.Name)]
public sealed class FitMemoryTests
{
    /// <summary>A two-layer network with fixed starting weights (no draw from the random stream).</summary>
    private sealed class FixedMlp : Module
    {
        private readonly Tensor _w1 = Ramp([4, 8], 0.05);
        private readonly Tensor _w2 = Ramp([8, 3], -0.07);
        private readonly Tensor _b2 = Ramp([3], 0.01);

        private static Tensor Ramp(int[] shape, double scale)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            var t = Tensor.From<float>(Enumerable.Range(0, n).Select(i => (float)(scale * ((i % 7) - 3))).ToArray(), shape);
            t.RequiresGrad = true;
            return t;
        }

        public override Tensor Forward(Tensor input) => input.MatMul(_w1).Relu().MatMul(_w2) + _b2;
    }

    [Fact]
    public void Tensor_memory_in_use_is_the_same_after_every_epoch()
    {
        var x = Tensor.From<float>(Enumerable.Range(0, 40 * 4).Select(i => (float)Math.Sin(i)).ToArray(), 40, 4);
        var y = Tensor.From<long>(Enumerable.Range(0, 40).Select(i => (long)(i % 3)).ToArray());
        var model = new FixedMlp();
        using var optimizer = new Adam(lr: 1e-2);
        model.Compile(optimizer, Losses.CrossEntropy, new TestAccuracy());
        var train = new DataLoader(new TensorDataset(x, y), batchSize: 8, shuffle: true, seed: 1);
        var validation = new DataLoader(new TensorDataset(x, y), batchSize: 16, seed: 2);
        MemoryCollection.Settle();
        var inUse = new List<long>();
        var recorder = new HookRecorder { OnCall = (hook, _, _) => { if (hook == "EpochEnd") inUse.Add(Engine.MemoryStats().BytesInUse); } };

        model.Fit(train, epochs: 4, validation: validation, callbacks: [recorder], verbose: 0);

        Assert.Equal(4, inUse.Count);
        Assert.All(inUse, bytes => Assert.Equal(inUse[0], bytes));
    }
}
