using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Data;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>The Keras-style loop on real data: Compile, Fit and Evaluate on the PyTorch-style MLP.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class FashionMnistFitTests
{
    [FashionMnistFact]
    public void Mlp_compiled_and_fitted_for_one_epoch_evaluates_to_84_percent_test_accuracy()
    {
        Engine.ManualSeed(0);
        using var data = FashionMnist.Load(FashionMnist.SystemDirectory, download: false);
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        using var optimizer = new Adam(lr: 1e-3);
        model.Compile(optimizer, Losses.CrossEntropy, new TestAccuracy());
        var train = new DataLoader(new TensorDataset(data.TrainImages, data.TrainLabels), batchSize: 64, shuffle: true, seed: 0);

        var history = model.Fit(train, epochs: 1, verbose: 0);
        var scores = model.Evaluate(data.TestImages, data.TestLabels, batchSize: 1000, verbose: 0);

        Assert.True(scores["accuracy"] >= 0.84, $"test accuracy after one epoch is {scores["accuracy"]:P2}, expected at least 84% (test loss {scores["loss"]:F3})");
        Assert.True(history["loss"][0] < 0.8, $"the epoch's mean training loss is {history["loss"][0]:F3}");
        Assert.True(history["accuracy"][0] > 0.7, $"the epoch's training accuracy is {history["accuracy"][0]:P2}");
    }
}
