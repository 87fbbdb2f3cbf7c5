using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

[Collection(RandomStateCollection.Name)]
public sealed class ModelSummaryTests
{
    [Fact]
    public void Summary_of_the_fashion_mnist_cnn_lists_each_layer_with_its_output_shape_and_parameters()
    {
        var model = new Sequential(
            new Conv2d(1, 32, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Conv2d(32, 64, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));
        const string expected = """
            Model: "Sequential"
            ___________________________________________________________________
             Layer (type)                Output Shape              Param #
            ===================================================================
             0 (Conv2d)                  (None, 32, 28, 28)        832
             1 (ReLU)                    (None, 32, 28, 28)        0
             2 (MaxPool2d)               (None, 32, 14, 14)        0
             3 (Conv2d)                  (None, 64, 14, 14)        51,264
             4 (ReLU)                    (None, 64, 14, 14)        0
             5 (MaxPool2d)               (None, 64, 7, 7)          0
             6 (Flatten)                 (None, 3136)              0
             7 (Linear)                  (None, 1024)              3,212,288
             8 (ReLU)                    (None, 1024)              0
             9 (Dropout)                 (None, 1024)              0
             10 (Linear)                 (None, 10)                10,250
            ===================================================================
            Total params: 3,274,634 (12.49 MB)
            Trainable params: 3,274,634 (12.49 MB)
            Non-trainable params: 0 (0.00 B)
            ___________________________________________________________________

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), model.Summary(1, 28, 28));
    }

    [Fact]
    public void Summary_of_a_functional_model_lists_inputs_and_layers_with_what_they_are_connected_to()
    {
        var image = Model.Input(1, 8, 8);
        var extra = Model.Input([3], DType.Float32, "extra");
        var features = new Flatten().Call(new MaxPool2d(2).Call(new Conv2d(4, 3, padding: 1).Call(image)));
        var shared = new Linear(3, 3);
        var meta = shared.Call(shared.Call(extra));
        var joined = new Concatenate().Call(features, meta);
        var model = new Model([image, extra], [new Linear(10).Call(joined), new Linear(1).Call(joined, "score")], name: "classifier");
        const string expected = """
            Model: "classifier"
            _______________________________________________________________________________________________
             Layer (type)                Output Shape              Param #     Connected to
            ===============================================================================================
             input (InputLayer)          (None, 1, 8, 8)           0           -
             extra (InputLayer)          (None, 3)                 0           -
             conv2d (Conv2d)             (None, 4, 8, 8)           40          input[0][0]
             max_pool2d (MaxPool2d)      (None, 4, 4, 4)           0           conv2d[0][0]
             flatten (Flatten)           (None, 64)                0           max_pool2d[0][0]
             linear (Linear)             (None, 3)                 12          extra[0][0]
                                                                               linear[0][0]
             concatenate (Concatenate)   (None, 67)                0           flatten[0][0], linear[1][0]
             linear_1 (Linear)           (None, 10)                680         concatenate[0][0]
             score (Linear)              (None, 1)                 68          concatenate[0][0]
            ===============================================================================================
            Total params: 800 (3.12 KB)
            Trainable params: 800 (3.12 KB)
            Non-trainable params: 0 (0.00 B)
            _______________________________________________________________________________________________

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), model.Summary());
    }

    [Fact]
    public void Summary_counts_running_statistics_and_frozen_parameters_as_non_trainable_and_flattens_nested_sequentials()
    {
        var model = new Sequential([
            ("features", new Sequential(new Conv2d(2, 3), new BatchNorm2d(), new Relu())),
            ("pool", new AdaptiveAvgPool2d(1)),
            ("head", new Sequential(new Flatten(), new Linear(4)))]);
        var summary = model.Summary(1, 6, 6);
        var head = (Linear)((Sequential)model["head"])[1];
        head.Bias!.RequiresGrad = false;
        const string expected = """
            Model: "Sequential"
            ___________________________________________________________________
             Layer (type)                Output Shape              Param #
            ===================================================================
             features.0 (Conv2d)         (None, 2, 4, 4)           20
             features.1 (BatchNorm2d)    (None, 2, 4, 4)           8
             features.2 (ReLU)           (None, 2, 4, 4)           0
             pool (AdaptiveAvgPool2d)    (None, 2, 1, 1)           0
             head.0 (Flatten)            (None, 2)                 0
             head.1 (Linear)             (None, 4)                 12
            ===================================================================
            Total params: 40 (160.00 B)
            Trainable params: 32 (128.00 B)
            Non-trainable params: 8 (32.00 B)
            ___________________________________________________________________

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), model.Summary(1, 6, 6));
        Assert.Contains("Trainable params: 36 (144.00 B)\nNon-trainable params: 4 (16.00 B)\n", summary);
    }

    [Fact]
    public void Summary_runs_in_evaluation_mode_and_leaves_training_mode_and_running_statistics_unchanged()
    {
        var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Dropout(0.5));
        model[2].Eval();
        var bn = (BatchNorm1d)model[1];
        var rng = Engine.GetRngState();

        model.Summary(3);

        Assert.Equal(rng, Engine.GetRngState());
        Assert.True(model.IsTraining);
        Assert.True(bn.IsTraining);
        Assert.False(model[2].IsTraining);
        Assert.Equal(0L, bn.NumBatchesTracked!.Item<long>());
        Assert.Equal(new float[4], bn.RunningMean!.ToArray<float>());
        Assert.Equal([1f, 1f, 1f, 1f], bn.RunningVar!.ToArray<float>());
    }

    [Fact]
    public void Summary_builds_a_lazy_model_as_the_eager_one_and_explains_a_missing_or_needless_shape()
    {
        Engine.ManualSeed(1);
        var eager = new Sequential(new Linear(784, 10));
        Engine.ManualSeed(1);
        var lazy = new Sequential(new Linear(10));
        Assert.Equal(eager.Summary(784), lazy.Summary(784));
        Assert.Equal(TestTensors.Values(((Linear)eager[0]).Weight), TestTensors.Values(((Linear)lazy[0]).Weight));

        Assert.Equal("Summary: give the shape of one input sample, without the batch dimension, as in model.Summary(1, 28, 28) (Parameter 'inputShape')",
            Assert.Throws<ArgumentException>(() => eager.Summary()).Message);
        var input = Model.Input(3);
        Assert.Throws<ArgumentException>(() => new Model(input, new Relu().Call(input)).Summary(3));
        Assert.StartsWith("Summary: the model cannot run on an input of shape (None, 5): model.0 (Linear 784->10): input has 5 features",
            Assert.Throws<KilnShapeException>(() => eager.Summary(5)).Message);
    }
}
