using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Evaluate and Predict against the same computations written by hand.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class EvaluatePredictTests
{
    private static (Sequential Model, Tensor X, Tensor Y) Problem()
    {
        Engine.ManualSeed(11);
        var model = new Sequential(new Linear(3, 6), new Relu(), new Dropout(0.5), new Linear(6, 4));
        model.Compile(new Adam(), Losses.CrossEntropy, new TestAccuracy());
        return (model, Tensor.Randn([10, 3]), Tensor.From<long>([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]));
    }

    [Fact]
    public void Evaluate_returns_the_loss_and_metrics_over_the_whole_data()
    {
        var (model, x, y) = Problem();
        double loss;
        double accuracy;
        using (Engine.NoGrad())
        {
            model.Eval();
            var logits = model.Call(x);
            loss = F.CrossEntropy(logits, y).Item();
            accuracy = logits.ArgMax(1).Eq(y).Sum().Item() / 10.0;
            model.Train();
        }

        var scores = model.Evaluate(x, y, batchSize: 4, verbose: 0);
        var fromLoader = model.Evaluate(new DataLoader(new TensorDataset(x, y), batchSize: 3), verbose: 0);

        Assert.Equal(["loss", "accuracy"], scores.Keys);
        Assert.Equal(loss, scores["loss"], 1e-6);
        Assert.Equal(accuracy, scores["accuracy"]);
        Assert.Equal(loss, fromLoader["loss"], 1e-6);
        Assert.Equal(accuracy, fromLoader["accuracy"]);
        Assert.True(model.IsTraining);
    }

    [Fact]
    public void Predict_equals_the_model_called_in_evaluation_mode_batch_by_batch()
    {
        var (model, x, _) = Problem();
        float[] expected;
        using (Engine.NoGrad())
        {
            model.Eval();
            expected = [.. Values(model.Call(x.Narrow(0, 0, 4))), .. Values(model.Call(x.Narrow(0, 4, 4))), .. Values(model.Call(x.Narrow(0, 8, 2)))];
            model.Train();
        }

        var predicted = model.Predict(x, batchSize: 4);
        var fromLoader = model.Predict(new DataLoader(new TensorDataset(x, Tensor.Zeros([10])), batchSize: 4));

        Assert.Equal([10, 4], predicted.Shape.ToArray());
        Assert.False(predicted.RequiresGrad);
        Assert.Equal(expected, Values(predicted));
        Assert.Equal(expected, Values(fromLoader));
        Assert.True(model.IsTraining);
    }

    [Fact]
    public void Predict_belongs_to_the_callers_scope_and_copies_an_input_passed_through()
    {
        var model = new Identity();
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var x = Tensor.Arange(0.0, 6.0).Reshape(6, 1);
        Tensor single, joined;
        using (var scope = Engine.Scope())
        {
            single = model.Predict(new DataLoader(new TensorDataset(x, x), batchSize: 6));
            joined = model.Predict(x, batchSize: 4);
            Assert.Equal([0f, 1, 2, 3, 4, 5], Values(single));
            Assert.Equal([0f, 1, 2, 3, 4, 5], Values(joined));
        }
        Assert.True(single.IsDisposed);
        Assert.True(joined.IsDisposed);
    }

    private static float[] Values(Tensor t) => t.ToArray<float>();
}
