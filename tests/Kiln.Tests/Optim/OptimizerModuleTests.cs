using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Optim;

/// <summary>Optimizers driving a <see cref="Module"/>'s parameters through the research loop.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class OptimizerModuleTests
{
    [Fact]
    public void Adam_fits_a_linear_model_and_follows_a_dtype_change_of_its_parameters()
    {
        Engine.ManualSeed(11);
        var model = new Linear(4, 1);
        using var adam = new Adam(model.Parameters(), lr: 0.05);
        var x = Tensor.Randn([64, 4]).DetachFromScope();
        var rule = Tensor.From<float>([0.5f, -1.0f, 2.0f, 0.25f], 4, 1).DetachFromScope();
        var y = (x.MatMul(rule) + 0.3).DetachFromScope();

        double Loss(Tensor input, Tensor target, bool step)
        {
            using var scope = Engine.Scope();
            var loss = F.MseLoss(model.Forward(input), target);
            if (!step) return loss.Item();
            adam.ZeroGrad();
            loss.Backward();
            adam.Step();
            return loss.Item();
        }

        double first = Loss(x, y, step: false);
        for (int i = 0; i < 300; i++) Loss(x, y, step: true);
        double trained = Loss(x, y, step: false);
        Assert.True(trained < 1e-3 * first, $"loss {first} -> {trained}");

        // Module.To changes the parameters' dtype in place; the optimizer's state follows at the next step.
        model.To(DType.Float64);
        var x64 = x.To(DType.Float64);
        var y64 = y.To(DType.Float64);
        for (int i = 0; i < 20; i++) Loss(x64, y64, step: true);
        Assert.True(Loss(x64, y64, step: false) <= trained * 1.5);
        foreach (var p in model.Parameters())
            Assert.All(adam.StateFor(p)!.Buffers.Values, b => Assert.Equal(DType.Float64, b.DType));
    }
}
