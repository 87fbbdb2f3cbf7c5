using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// The non-GEMM ops of a Fashion-MNIST CNN/MLP training step at batch 64, one at a time, in µs per
/// call: ReLU and 2×2 max pooling on the CNN's activations, cross entropy, softmax and log-softmax,
/// batch normalization in training mode, full and per-column reductions, and a broadcast bias add.
/// "fwd" runs without a tape; "fwd+bwd" records the tape and back-propagates a fixed output gradient
/// (the loss itself for cross entropy) into every input that requires one. Calls run in a scope, as
/// user code does.
/// </summary>
internal static class OpsWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        var all = new List<Workload>();
        foreach (var shape in new[] { new[] { 64, 32, 28, 28 }, [64, 64, 14, 14] })
        {
            string dims = string.Join("x", shape);
            all.AddRange(Both($"relu {dims}", () => [Tensor.Randn(shape)], x => x[0].Relu()));
            all.AddRange(Both($"maxpool2 {dims}", () => [Tensor.Randn(shape)], x => F.MaxPool2d(x[0], 2)));
        }
        foreach (int n in new[] { 64, 256 })
            all.AddRange(Both($"cross_entropy {n}x10", () => [Tensor.Randn([n, 10]), Tensor.RandInt(10, [n])], x => F.CrossEntropy(x[0], x[1])));
        foreach (var (n, c) in new[] { (64, 10), (256, 1000) })
        {
            all.AddRange(Both($"softmax {n}x{c}", () => [Tensor.Randn([n, c])], x => x[0].Softmax(1)));
            all.AddRange(Both($"log_softmax {n}x{c}", () => [Tensor.Randn([n, c])], x => x[0].LogSoftmax(1)));
        }
        all.Add(BatchNorm(backward: false));
        all.Add(BatchNorm(backward: true));
        foreach (var (n, d) in new[] { (64, 1024), (1024, 1024) })
        {
            all.Add(ForwardOnly($"sum {n}x{d}", () => [Tensor.Randn([n, d])], x => x[0].Sum()));
            all.Add(ForwardOnly($"mean {n}x{d}", () => [Tensor.Randn([n, d])], x => x[0].Mean()));
        }
        all.Add(ForwardOnly("sum dim0 64x1024", () => [Tensor.Randn([64, 1024])], x => x[0].Sum(0)));
        all.AddRange(Both("bias add 64x1024+1024", () => [Tensor.Randn([64, 1024]), Tensor.Randn([1024])], x => x[0] + x[1]));
        return all;
    }

    private static Workload ForwardOnly(string name, Func<Tensor[]> inputs, Func<Tensor[], Tensor> op)
        => new("ops", name, Unit.Microseconds, 0, () => Forward(inputs(), op, []));

    /// <summary>The op without a tape ("fwd") and with its backward ("fwd+bwd"); float inputs get gradients.</summary>
    private static Workload[] Both(string name, Func<Tensor[]> inputs, Func<Tensor[], Tensor> op) =>
    [
        new("ops", name + " fwd", Unit.Microseconds, 0, () => Forward(inputs(), op, [])),
        new("ops", name + " fwd+bwd", Unit.Microseconds, 0, () => ForwardBackward(inputs(), op, [])),
    ];

    private static PreparedCall Forward(Tensor[] inputs, Func<Tensor[], Tensor> op, IDisposable[] owned)
        => new(() =>
        {
            using (Engine.NoGrad())
            using (Engine.Scope())
                op(inputs);
        }, [.. inputs, .. owned]);

    private static PreparedCall ForwardBackward(Tensor[] inputs, Func<Tensor[], Tensor> op, IDisposable[] owned)
    {
        foreach (var t in inputs) t.RequiresGrad = t.DType.IsFloatingPoint();
        Tensor? gradOutput = null;
        using (Engine.NoGrad())
        using (Engine.Scope())
        {
            var y = op(inputs);
            if (y.NumElements > 1) gradOutput = Tensor.RandnLike(y).DetachFromScope();
        }
        return new PreparedCall(() =>
        {
            using (Engine.Scope())
                op(inputs).Backward(gradOutput);
            foreach (var t in inputs)
            {
                t.Grad?.Dispose();
                t.Grad = null;
            }
        }, [.. inputs, .. owned, .. gradOutput is null ? Array.Empty<IDisposable>() : [gradOutput]]);
    }

    private static Workload BatchNorm(bool backward)
    {
        const int channels = 32;
        return new Workload("ops", $"batchnorm2d 64x32x28x28 train {(backward ? "fwd+bwd" : "fwd")}", Unit.Microseconds, 0, () =>
        {
            var runningMean = Tensor.Zeros([channels]);
            var runningVar = Tensor.Ones([channels]);
            Tensor[] inputs = [Tensor.Randn([64, channels, 28, 28]), Tensor.Ones([channels]), Tensor.Zeros([channels])];
            Tensor Op(Tensor[] x) => F.BatchNorm(x[0], runningMean, runningVar, x[1], x[2], training: true);
            IDisposable[] owned = [runningMean, runningVar];
            return backward ? ForwardBackward(inputs, Op, owned) : Forward(inputs, Op, owned);
        });
    }
}
