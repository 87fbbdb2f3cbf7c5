using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// Inference latency of the two benchmark models at batch 1 and 64 (issue 6, "Benchmarks"): the MLP
/// 784-256-128-10 (ReLU) on [N,784] and the Fashion-MNIST CNN (conv 5×5 32 same + ReLU, maxpool 2,
/// conv 5×5 64 same + ReLU, maxpool 2, dense 1024 + ReLU, dropout 0.4, dense 10) on [N,1,28,28], in
/// eval mode. Each runs eager ("kiln": <c>model.Call</c> without a tape, in a scope) and compiled
/// ("kiln-compiled": <c>Engine.Compile(model, new CompileOptions { FreezeParameters = true })</c>, as TorchScript is frozen, replayed with <c>CallInto</c> a preallocated
/// output, so a call allocates nothing). bench/peers/torch_bench.py and ort_bench.js run the same
/// names as PyTorch eager, TorchScript and ONNX Runtime.
/// </summary>
internal static class InferenceWorkloads
{
    internal const string Group = "infer";
    internal const string CompiledImpl = "kiln-compiled";

    internal static IEnumerable<Workload> All()
    {
        foreach (int batch in new[] { 1, 64 })
        {
            foreach (var (model, unit) in new[] { ("mlp 784-256-128-10", Unit.Microseconds), ("cnn fashion-mnist", batch == 1 ? Unit.Microseconds : Unit.Milliseconds) })
            {
                string name = $"{model} b{batch}";
                bool cnn = model.StartsWith("cnn", StringComparison.Ordinal);
                yield return new Workload(Group, name, unit, 0, () => Prepare(cnn, batch, compiled: false));
                yield return new Workload(Group, name, unit, 0, () => Prepare(cnn, batch, compiled: true), CompiledImpl);
            }
        }
    }

    /// <summary>The models of bench/train.sh's recipes (and of torch_bench.py's infer group), in eval mode.</summary>
    internal static Module Build(bool cnn)
    {
        Module model = cnn
            ? new Sequential(
                new Conv2d(1, 32, 5, padding: 2), new Relu(), new MaxPool2d(2),
                new Conv2d(32, 64, 5, padding: 2), new Relu(), new MaxPool2d(2),
                new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10))
            : new Sequential(new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        model.Eval();
        return model;
    }

    private static PreparedCall Prepare(bool cnn, int batch, bool compiled)
    {
        var model = Build(cnn);
        var x = cnn ? Tensor.Rand([batch, 1, 28, 28]) : Tensor.Rand([batch, 784]);
        if (!compiled)
        {
            return new PreparedCall(() =>
            {
                using (Engine.NoGrad())
                using (Engine.Scope())
                    model.Call(x);
            }, [x, .. model.Parameters()]);
        }
        var output = Tensor.Zeros([batch, 10]);
        var function = Engine.Compile(model, new Kiln.Compile.CompileOptions { FreezeParameters = true });
        return new PreparedCall(() => function.CallInto(x, output), [function, x, output, .. model.Parameters()]);
    }
}
