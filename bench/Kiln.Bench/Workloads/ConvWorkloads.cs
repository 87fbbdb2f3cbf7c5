using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// The two convolutions of the Fashion-MNIST CNN at batch 64 (5×5 kernels, padding 2), in ms per
/// call: forward (no grad) and forward plus backward from a fixed output gradient, producing the
/// input, weight and bias gradients. Both run in a scope, as user code does.
/// </summary>
internal static class ConvWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        foreach (var (name, c, hw, filters) in new[] { ("conv1 64x1x28x28 k32 5x5", 1, 28, 32), ("conv2 64x32x14x14 k64 5x5", 32, 14, 64) })
        {
            double flops = 2.0 * 64 * filters * c * 25 * hw * hw;
            yield return new Workload("conv", name + " fwd", Unit.Milliseconds, flops, () => Conv(c, hw, filters, backward: false));
            yield return new Workload("conv", name + " fwd+bwd", Unit.Milliseconds, 3 * flops, () => Conv(c, hw, filters, backward: true));
        }
    }

    private static PreparedCall Conv(int channels, int size, int filters, bool backward)
    {
        var x = Tensor.Randn([64, channels, size, size]);
        var w = Tensor.Uniform(-0.1, 0.1, [filters, channels, 5, 5]);
        var b = Tensor.Zeros([filters]);
        var gradOutput = Tensor.Randn([64, filters, size, size]);
        if (!backward)
        {
            return new PreparedCall(() =>
            {
                using (Engine.NoGrad())
                using (F.Conv2d(x, w, b, padding: 2)) { }
            }, x, w, b, gradOutput);
        }

        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        Tensor[] leaves = [x, w, b];
        return new PreparedCall(() =>
        {
            using (Engine.Scope())
                F.Conv2d(x, w, b, padding: 2).Backward(gradOutput);
            foreach (var t in leaves)
            {
                t.Grad?.Dispose();
                t.Grad = null;
            }
        }, x, w, b, gradOutput);
    }
}
