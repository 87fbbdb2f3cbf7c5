using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>The built-in losses equal their F counterparts, and their per-sample forms average to them.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class LossesTests
{
    private static double Value(Tensor t) => t.Item();

    public static TheoryData<string> Names => ["CrossEntropy", "NllLoss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "MeanSquaredError", "MeanAbsoluteError", "Huber", "SmoothL1"];

    private static (Loss Loss, Tensor Prediction, Tensor Target, double Expected) Case(string name)
    {
        Engine.ManualSeed(31);
        var logits = Tensor.Randn([6, 4]);
        var classes = Tensor.From<long>([0, 3, 1, 2, 3, 0]);
        var values = Tensor.Randn([6, 2]) * 2;
        var other = Tensor.Randn([6, 2]);
        var probabilities = Tensor.Rand([6, 2]) * 0.9 + 0.05;
        var labels = Tensor.From<float>([1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0], 6, 2);
        return name switch
        {
            "CrossEntropy" => (Losses.CrossEntropy, logits, classes, Value(F.CrossEntropy(logits, classes))),
            "NllLoss" => (Losses.NllLoss, logits.LogSoftmax(1), classes, Value(F.NllLoss(logits.LogSoftmax(1), classes))),
            "BinaryCrossEntropy" => (Losses.BinaryCrossEntropy, probabilities, labels, Value(F.BceLoss(probabilities, labels))),
            "BinaryCrossEntropyWithLogits" => (Losses.BinaryCrossEntropyWithLogits, values, labels, Value(F.BceWithLogitsLoss(values, labels))),
            "MeanSquaredError" => (Losses.MeanSquaredError, values, other, Value(F.MseLoss(values, other))),
            "MeanAbsoluteError" => (Losses.MeanAbsoluteError, values, other, Value(F.L1Loss(values, other))),
            "Huber" => (Losses.Huber, values, other, Value(F.SmoothL1Loss(values, other))),
            "SmoothL1" => (Losses.SmoothL1, values, other, Value(F.SmoothL1Loss(values, other))),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_built_in_loss_equals_its_F_function_and_its_per_sample_form_averages_to_it(string name)
    {
        var (loss, prediction, target, expected) = Case(name);

        var perSample = Losses.PerSampleForm(loss)!(prediction, target);

        Assert.Equal(expected, Value(loss(prediction, target)));
        Assert.Equal([6], perSample.Shape.ToArray());
        Assert.Equal(expected, Value(perSample.Mean()), 1e-6);
    }

    [Fact]
    public void Huber_with_a_delta_is_quadratic_inside_it_and_linear_outside()
    {
        var prediction = Tensor.From<float>([0.5f, 3f]);
        var target = Tensor.Zeros([2]);

        // |d| = 0.5 < 2: 0.5·0.25 = 0.125; |d| = 3 >= 2: 2·(3 - 1) = 4; mean 2.0625.
        Assert.Equal(2.0625, Value(Losses.Huber(delta: 2)(prediction, target)), 1e-6);
        // SmoothL1 with beta 2: 0.125 / 2 and 3 - 1, mean 1.03125.
        Assert.Equal(1.03125, Value(Losses.SmoothL1(beta: 2)(prediction, target)), 1e-6);
        Assert.Equal([0.125f, 4f], Losses.PerSampleForm(Losses.Huber(delta: 2))!(prediction, target).ToArray<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Huber(delta: 0));
    }

    [Fact]
    public void A_custom_loss_has_no_per_sample_form()
    {
        Loss custom = (p, t) => F.MseLoss(p, t);

        Assert.Null(Losses.PerSampleForm(custom));
        Assert.NotNull(Losses.PerSampleForm(Losses.MeanSquaredError));
    }
}
