using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Bad use of Compile, Fit, Evaluate and Predict: a clear error naming what was wrong.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class FitErrorTests
{
    [Fact]
    public void Fit_Evaluate_and_Predict_before_Compile_say_to_compile_first()
    {
        var model = new Linear(2, 1);
        var x = Tensor.Zeros([4, 2]);
        var y = Tensor.Zeros([4, 1]);

        var fit = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, verbose: 0));
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(x, y, verbose: 0));
        Assert.Throws<InvalidOperationException>(() => model.Predict(x));

        Assert.Equal("Linear: call model.Compile(optimizer, loss, metrics) before Fit, Evaluate or Predict", fit.Message);
    }

    [Fact]
    public void Inputs_and_targets_with_different_sample_counts_are_refused()
    {
        var model = new Linear(2, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);

        var e = Assert.Throws<KilnShapeException>(() => model.Fit(Tensor.Zeros([10, 2]), Tensor.Zeros([9, 1]), verbose: 0));
        var validation = Assert.Throws<KilnShapeException>(() => model.Fit(Tensor.Zeros([10, 2]), Tensor.Zeros([10, 1]), validationData: (Tensor.Zeros([3, 2]), Tensor.Zeros([4, 1])), verbose: 0));

        Assert.Equal("Fit: y [9, 1] has 9 samples, but x [10, 2] has 10; every input and target needs the same number of samples (first dimension)", e.Message);
        Assert.StartsWith("Fit (validationData): y [4, 1] has 4 samples", validation.Message);
    }

    [Fact]
    public void A_shape_error_inside_a_step_names_the_epoch_and_batch()
    {
        var model = new Linear(3, 2);
        model.Compile(new Sgd(model.Parameters(), lr: 0.1), Losses.CrossEntropy);

        var e = Assert.Throws<KilnShapeException>(() => model.Fit(Tensor.Zeros([4, 5]), Tensor.Zeros([4], DType.Int64), verbose: 0));

        Assert.Equal("Fit (epoch 0, batch 0): model (Linear 3->2): input has 5 features, expected 3", e.Message);
    }

    [Fact]
    public void Bad_arguments_are_refused_before_training()
    {
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var x = Tensor.Zeros([4, 1]);

        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, x, batchSize: 0, verbose: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, x, verbose: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, x, validationSplit: 1.0, verbose: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, x, epochs: 2, initialEpoch: 3, verbose: 0));
        var split = Assert.Throws<ArgumentException>(() => model.Fit(x, x, validationSplit: 0.1, verbose: 0));
        Assert.Contains("leaves 4 to train on and 0 to validate on", split.Message);
        var weight = Assert.Throws<ArgumentException>(() => model.Fit(x, x, classWeight: new Dictionary<int, double> { [0] = -1 }, verbose: 0));
        Assert.Contains("class 0 the weight -1", weight.Message);
    }

    [Fact]
    public void ClassWeight_with_a_loss_that_returns_one_value_per_batch_explains_what_it_needs()
    {
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), (p, t) => (p - t).Abs().Sum());
        var x = Tensor.Zeros([4, 1]);

        var e = Assert.Throws<KilnShapeException>(() => model.Fit(x, x, classWeight: new Dictionary<int, double> { [0] = 2 }, verbose: 0));

        Assert.Equal("Fit (epoch 0, batch 0): classWeight weights each sample's loss, but the loss returned one value for the batch; use a loss from Losses or one that returns a value per sample [N]", e.Message);
    }

    [Fact]
    public void A_loss_of_another_shape_than_a_scalar_or_one_value_per_sample_is_refused()
    {
        var model = new Linear(2, 2);
        model.Compile(new Sgd(lr: 0.1), (p, t) => (p - t) * (p - t));
        var x = Tensor.Zeros([4, 2]);

        var e = Assert.Throws<KilnShapeException>(() => model.Fit(x, x, verbose: 0));

        Assert.Equal("Fit (epoch 0, batch 0): the loss returned a tensor of shape [4, 2]; expected a scalar or one value per sample [4]", e.Message);
    }

    [Fact]
    public void A_model_without_parameters_cannot_be_fitted()
    {
        var model = new Relu();
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);

        var e = Assert.Throws<KilnException>(() => model.Fit(Tensor.Zeros([2, 1]), Tensor.Zeros([2, 1]), verbose: 0));

        Assert.Equal("Fit: Relu has no parameters to train", e.Message);
    }

    [Fact]
    public void Empty_data_is_refused()
    {
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var empty = new DataLoader(new TensorDataset(Tensor.Zeros([3, 1]), Tensor.Zeros([3, 1])), batchSize: 4, dropLast: true);

        Assert.Equal("Fit: the training data has no batches", Assert.Throws<ArgumentException>(() => model.Fit(empty, verbose: 0)).Message);
        Assert.Equal("Evaluate: the data has no batches", Assert.Throws<ArgumentException>(() => model.Evaluate(empty, verbose: 0)).Message);
    }
}
