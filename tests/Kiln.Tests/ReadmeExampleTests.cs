using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests;

/// <summary>The README's example, kept compiling and working: a softmax regression learns a planted rule.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class ReadmeExampleTests
{
    [Fact]
    public void Readme_example_trains_a_softmax_regression()
    {
        Engine.ManualSeed(42);
        var w = Tensor.Randn([784, 10]) * 0.01;
        w.RequiresGrad = true;
        var b = Tensor.Zeros([10]);
        b.RequiresGrad = true;
        var rule = Tensor.Randn([784, 10]);           // the labels come from a hidden linear rule

        double first = 0, last = 0;
        for (int step = 0; step < 100; step++)
        {
            using var scope = Engine.Scope();         // frees every temporary of this step
            var x = Tensor.Randn([64, 784]);
            var y = x.MatMul(rule).ArgMax(1);
            var loss = F.CrossEntropy(x.MatMul(w) + b, y);
            loss.Backward();
            using (Engine.NoGrad())
            {
                w.SubInPlace(w.Grad! * 0.5);
                b.SubInPlace(b.Grad! * 0.5);
                w.Grad!.ZeroInPlace();
                b.Grad!.ZeroInPlace();
            }
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first * 0.7, $"loss went from {first} to {last}");
    }
}
