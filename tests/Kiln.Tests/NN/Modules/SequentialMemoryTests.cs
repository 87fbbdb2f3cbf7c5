using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

/// <summary>Sequential's early release of intermediate outputs when no gradient is recorded: exact pool numbers, so these run alone.</summary>
[Collection(MemoryCollection.Name)]
public sealed class SequentialMemoryTests
{
    private const int Rows = 256, Features = 256;

    private static Sequential Model() => new(
        new Linear(Features, Features), new Relu(), new Linear(Features, Features), new Relu(), new Linear(Features, Features));

    private static long ActivationBytes => MemoryPool.SizeClass((long)Rows * Features * sizeof(float)).Capacity;

    [Fact]
    public void Sequential_without_grad_frees_each_intermediate_once_the_next_layer_has_read_it()
    {
        Engine.ManualSeed(3);
        var model = Model();
        using var x = Tensor.Randn([Rows, Features]);
        float[] expected;
        using (Engine.Scope()) expected = model.Call(x).ToArray<float>();

        var start = MemoryCollection.Settle();
        Engine.ResetPeakMemory();
        using (Engine.NoGrad())
        using (Engine.Scope())
        {
            var y = model.Call(x);
            var stats = Engine.MemoryStats();
            // Only the result is left of five layer outputs; at most two were alive at once.
            Assert.Equal(start.BytesInUse + ActivationBytes, stats.BytesInUse);
            Assert.True(stats.PeakBytesInUse <= start.BytesInUse + 2 * ActivationBytes + 4096, $"peak {stats.PeakBytesInUse - start.BytesInUse} bytes");
            Assert.Equal(expected, y.ToArray<float>());
        }
    }

    [Fact]
    public void Sequential_with_grad_keeps_every_intermediate_for_backward()
    {
        Engine.ManualSeed(4);
        var model = Model();
        using var x = Tensor.Randn([Rows, Features]);
        var start = MemoryCollection.Settle();
        using (Engine.Scope())
        {
            model.Call(x);
            Assert.True(Engine.MemoryStats().BytesInUse >= start.BytesInUse + 5 * ActivationBytes);
        }
    }

    [Fact]
    public void Sequential_without_grad_leaves_outputs_that_a_hook_or_a_custom_module_kept_readable()
    {
        Engine.ManualSeed(5);
        var relu = new Relu();
        var remember = new Remember();
        var model = new Sequential(new Linear(Features, Features), relu, new Linear(Features, Features), remember, new Linear(Features, Features));
        Tensor? hooked = null;
        using var handle = relu.RegisterForwardHook((Module _, Tensor _, Tensor output) => hooked = output);
        using var x = Tensor.Randn([Rows, Features]);
        using (Engine.NoGrad())
        using (Engine.Scope())
        {
            model.Call(x);
            Assert.NotNull(hooked);
            Assert.NotNull(remember.Last);
            Assert.All(hooked!.ToArray<float>(), v => Assert.True(v >= 0f));
            Assert.All(remember.Last!.ToArray<float>(), v => Assert.True(v >= 0f));
        }
    }

    /// <summary>A user module that keeps its last output (to look at it later).</summary>
    private sealed class Remember : Module
    {
        internal Tensor? Last { get; private set; }

        public override Tensor Forward(Tensor input) => Last = F.Relu(input);
    }
}
