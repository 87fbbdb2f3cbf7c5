using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>A metric written by subclassing Metric works as the built-in ones do (the model's initializer draws from the global random stream).</summary>
[Collection(RandomStateCollection.Name)]
public sealed class CustomMetricTests
{
    /// <summary>A user's metric: the largest absolute prediction seen.</summary>
    private sealed class MaxAbsolutePrediction(string name = "max_abs") : Metric(name)
    {
        private double _max;

        public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
        {
            foreach (var v in prediction.ToArray<float>()) _max = Math.Max(_max, Math.Abs(v));
        }

        public override double Result() => _max;

        public override void Reset() => _max = 0;

        public override Metric Clone() => new MaxAbsolutePrediction(Name);
    }

    [Fact]
    public void A_custom_metric_subclass_streams_and_is_cloned_by_compile()
    {
        var custom = new MaxAbsolutePrediction();
        custom.Update(Tensor.From([0.5f, -3f]), Tensor.Zeros([2]));
        custom.Update(Tensor.From([2f]), Tensor.Zeros([1]));
        Assert.Equal(3.0, custom.Result());

        var model = new Linear(2, 1);
        var trainer = Trainer.Compile(model, new Sgd(0.1), (p, t) => F.MseLoss(p, t), [custom, new Accuracy()]);
        Assert.Equal(["max_abs", "accuracy"], trainer.Metrics.Select(m => m.Name));
        Assert.NotSame(custom, trainer.Metrics[0]);
        Assert.Equal(0, trainer.Metrics[0].Result());
        Assert.Equal(3.0, custom.Result());
    }
}
