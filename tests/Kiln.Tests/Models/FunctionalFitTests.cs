using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Fit on the models this branch adds: a functional model of two inputs, and a lazy model built by its first batch.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class FunctionalFitTests
{
    [Fact]
    public void Fit_trains_a_functional_model_of_two_inputs_wired_from_lazy_layers()
    {
        Engine.ManualSeed(8);
        var x0 = Tensor.Randn([32, 2]);
        var x1 = Tensor.Randn([32, 3]);
        var y = x0.Sum([1], keepDim: true) - x1.Sum([1], keepDim: true);

        var a = Model.Input(2);
        var b = Model.Input(3);
        var model = new Model([a, b], [new Linear(1).Call(new Concatenate().Call(a, b))]);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);

        var history = model.Fit([x0, x1], [y], batchSize: 8, epochs: 40, verbose: 0);
        var predicted = model.Predict([x0, x1], batchSize: 16);

        Assert.True(history["loss"][39] < 1e-4, $"loss {history["loss"][39]}");
        Assert.Single(predicted);
        Assert.Equal([32, 1], predicted[0].Shape.ToArray());
    }

    [Fact]
    public void Fit_gives_the_optimizer_the_parameters_a_lazy_model_creates_on_the_first_batch()
    {
        Engine.ManualSeed(9);
        var x = Tensor.Randn([32, 4]);
        var y = x.Sum([1], keepDim: true);
        var model = new Sequential(new Linear(8), new Relu(), new Linear(1));
        Assert.False(model.IsBuilt);
        model.Compile(new Adam(lr: 1e-2), Losses.MeanSquaredError);

        var history = model.Fit(x, y, batchSize: 8, epochs: 30, verbose: 0);

        Assert.True(model.IsBuilt);
        Assert.Equal(4, ((Linear)model[0]).InFeatures);
        Assert.True(history["loss"][29] < history["loss"][0] / 10, $"loss {history["loss"][0]} -> {history["loss"][29]}");
    }
}
