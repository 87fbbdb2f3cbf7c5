using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Fit, Evaluate and Predict on a model of two inputs and two outputs (the seam a functional Model uses).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class MultiInputFitTests
{
    private static (TwoTowers Model, Tensor[] X, Tensor[] Y) Problem()
    {
        Engine.ManualSeed(21);
        var x0 = Tensor.Randn([12, 2]);
        var x1 = Tensor.Randn([12, 3]);
        var y0 = x0.Sum([1], keepDim: true) - x1.Sum([1], keepDim: true);
        var y1 = x1.Narrow(1, 0, 2) * 2;
        var model = new TwoTowers();
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        return (model, [x0, x1], [y0, y1]);
    }

    [Fact]
    public void The_loss_of_a_multi_output_model_is_the_sum_of_the_loss_of_each_output()
    {
        var (model, x, y) = Problem();
        double expected;
        using (Engine.NoGrad())
        {
            var outputs = model.Forward(x);
            expected = F.MseLoss(outputs[0], y[0]).Item() + F.MseLoss(outputs[1], y[1]).Item();
        }

        var scores = model.Evaluate(x, y, batchSize: 12, verbose: 0);

        Assert.Equal(expected, scores["loss"], 1e-6);
    }

    [Fact]
    public void Fit_trains_both_outputs_and_Predict_returns_one_tensor_per_output()
    {
        var (model, x, y) = Problem();

        var history = model.Fit(x, y, batchSize: 4, epochs: 60, validationSplit: 0.25, verbose: 0);
        var predicted = model.Predict(x, batchSize: 5);

        Assert.True(history["loss"][59] < 1e-3 && history["val_loss"][59] < 1e-3, $"loss {history["loss"][59]}, val_loss {history["val_loss"][59]}");
        Assert.Equal(2, predicted.Length);
        Assert.Equal([12, 1], predicted[0].Shape.ToArray());
        Assert.Equal([12, 2], predicted[1].Shape.ToArray());
    }

    [Fact]
    public void A_multi_input_model_given_the_wrong_number_of_tensors_is_refused_clearly()
    {
        var (model, x, y) = Problem();

        var inputs = Assert.Throws<ArgumentException>(() => model.Fit([x[0]], y, verbose: 0));
        var targets = Assert.Throws<ArgumentException>(() => model.Fit(x, [y[0]], verbose: 0));
        var single = Assert.Throws<ArgumentException>(() => model.Predict(x[0]));

        Assert.StartsWith("Fit: TwoTowers takes 2 inputs; x holds 1 tensor", inputs.Message);
        Assert.StartsWith("Fit: TwoTowers returns 2 outputs, so y needs 2 targets; it holds 1 tensor", targets.Message);
        Assert.StartsWith("Predict: TwoTowers returns 2 outputs; use Predict(Tensor[] x)", single.Message);
    }
}
