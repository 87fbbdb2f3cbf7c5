using Kiln.Compile;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>
/// At steady state a compiled training step (forward, backward, optimizer update) allocates nothing,
/// managed or pooled: every intermediate and gradient lives in memory planned at the trace, and the
/// optimizer updates its existing state in place. Measured over 1,000 steps.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class CompiledStepAllocationTests
{
    private const int Steps = 1000;

    private static (Tensor X, Tensor Y) Batch(int n)
    {
        var x = CompileAssert.Uniform(8, n, 1, 6, 6);
        var labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = i % 5;
        return (x, Tensor.From<long>(labels, n));
    }

    private static void AssertStepsAllocateNothing(Module model, Optimizer optimizer, CompileStepOptions? options = null)
    {
        using var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer, options ?? new CompileStepOptions());
        var (x, y) = Batch(8);
        using var loss = Tensor.Zeros([]);
        for (int i = 0; i < 20; i++) step.StepInto(x, y, loss);
        var before = MemoryCollection.Settle();
        long managed = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Steps; i++) step.StepInto(x, y, loss);
        managed = GC.GetAllocatedBytesForCurrentThread() - managed;
        var after = MemoryCollection.Settle();
        Assert.Equal(0, managed);
        Assert.Equal(before.NativeAllocations, after.NativeAllocations);
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        Assert.Equal(1, step.TraceCount);
        Assert.True(double.IsFinite(loss.Item()));
        x.Dispose();
        y.Dispose();
    }

    [Fact]
    public void A_compiled_adam_step_on_an_mlp_allocates_nothing_over_1000_steps()
    {
        Engine.ManualSeed(31);
        var model = new Sequential(new Flatten(), new Linear(36, 16), new Relu(), new Linear(16, 5));
        using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        AssertStepsAllocateNothing(model, optimizer);
    }

    [Fact]
    public void A_compiled_sgd_step_on_a_batchnorm_cnn_allocates_nothing_over_1000_steps()
    {
        Engine.ManualSeed(32);
        var model = new Sequential(new Conv2d(1, 2, kernelSize: 3, padding: 1), new BatchNorm2d(2), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(2 * 3 * 3, 5));
        using var optimizer = new Sgd(model.Parameters(), lr: 0.01, momentum: 0.9);
        AssertStepsAllocateNothing(model, optimizer);
    }

    [Fact]
    public void A_compiled_step_that_clips_gradients_allocates_nothing_over_1000_steps()
    {
        Engine.ManualSeed(33);
        var model = new Sequential(new Flatten(), new Linear(36, 16), new Relu(), new Linear(16, 5));
        using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        AssertStepsAllocateNothing(model, optimizer, new CompileStepOptions { ClipGradNorm = 0.01, ClipGradValue = 0.5 });
    }
}
