using Kiln.Data;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Data;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.EndToEnd;

/// <summary>The PyTorch-style loop on real data: DataLoader, Module, Adam, cross-entropy.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class FashionMnistTrainingTests
{
    [FashionMnistFact]
    public void Mlp_trained_for_one_epoch_reaches_84_percent_test_accuracy()
    {
        Engine.ManualSeed(0);
        using var data = FashionMnist.Load(FashionMnist.SystemDirectory, download: false);
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        var loader = new DataLoader(new TensorDataset(data.TrainImages, data.TrainLabels), batchSize: 64, shuffle: true, seed: 0);
        double firstLoss = double.NaN, lastLoss = double.NaN;
        int steps = 0;
        foreach (var (x, y) in loader)
        {
            using var scope = Engine.Scope();
            var loss = F.CrossEntropy(model.Call(x), y);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            if (steps++ == 0) firstLoss = loss.Item();
            lastLoss = loss.Item();
        }
        Assert.Equal(938, steps);

        model.Eval();
        long correct = 0;
        using (Engine.NoGrad())
        using (Engine.Scope())
        {
            var predicted = model.Call(data.TestImages).ArgMax(1);
            correct = (long)predicted.Eq(data.TestLabels).Sum().Item();
        }
        double accuracy = correct / 10000.0;
        Assert.True(accuracy >= 0.84, $"test accuracy after one epoch is {accuracy:P2}, expected at least 84% (first loss {firstLoss:F3}, last {lastLoss:F3})");
        Assert.True(firstLoss > 2.0 && lastLoss < 0.8, $"loss went from {firstLoss:F3} to {lastLoss:F3}");
    }
}
