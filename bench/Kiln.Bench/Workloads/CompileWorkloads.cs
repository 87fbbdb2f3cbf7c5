using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// MLP (784-256-128-10 ReLU, Flatten first) inference at batch 1 and 64, eager against compiled with
/// <c>Engine.Compile(model)</c>: the compiled call replays the traced graph into its planned arena,
/// and "into" writes into a caller's tensor, allocating nothing. The Fashion-MNIST CNN (with a
/// BatchNorm2d after each convolution) at batch 1 and 64: eager, compiled, and compiled with frozen
/// parameters (the batch norms folded into the convolutions). An elementwise chain (bias, GELU,
/// scale) on [64, 1024] shows fusion. Frozen parameters are constants, so their GEMM weights are
/// packed into panels once (GemmWeightPrepacking) instead of at every call. A compiled 1-element add shows the replay's fixed cost per
/// call. Kiln only.
/// </summary>
internal static class CompileWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        yield return new Workload("compile", "mlp 784-256-128-10 b1 eager", Unit.Microseconds, 0, () => Mlp(Mode.Eager));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled", Unit.Microseconds, 0, () => Mlp(Mode.Compiled));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled into", Unit.Microseconds, 0, () => Mlp(Mode.CompiledInto));
        yield return new Workload("compile", "mlp 784-256-128-10 b64 eager", Unit.Microseconds, 0, () => Mlp(Mode.Eager, 64));
        yield return new Workload("compile", "mlp 784-256-128-10 b64 compiled", Unit.Microseconds, 0, () => Mlp(Mode.Compiled, 64));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled frozen", Unit.Microseconds, 0, () => Mlp(Mode.CompiledFrozen, 1));
        yield return new Workload("compile", "mlp 784-256-128-10 b64 compiled frozen", Unit.Microseconds, 0, () => Mlp(Mode.CompiledFrozen, 64));
        foreach (var batch in new[] { 1, 64 })
        {
            yield return new Workload("compile", $"cnn-bn b{batch} eager", Unit.Microseconds, 0, () => Cnn(Mode.Eager, batch));
            yield return new Workload("compile", $"cnn-bn b{batch} compiled", Unit.Microseconds, 0, () => Cnn(Mode.Compiled, batch));
            yield return new Workload("compile", $"cnn-bn b{batch} compiled frozen", Unit.Microseconds, 0, () => Cnn(Mode.CompiledFrozen, batch));
        }
        yield return new Workload("compile", "chain 64x1024 eager", Unit.Microseconds, 0, () => Chain(compiled: false));
        yield return new Workload("compile", "chain 64x1024 compiled", Unit.Microseconds, 0, () => Chain(compiled: true));
        yield return new Workload("compile", "add 1-element compiled", Unit.Microseconds, 0, Add);
    }

    /// <summary>((x + b)·GELU)·0.5 + x on [64, 1024]: five elementwise ops, fused into one tiled node when compiled.</summary>
    private static PreparedCall Chain(bool compiled)
    {
        var x = Tensor.Rand([64, 1024]);
        var b = Tensor.Rand([1024]);
        Func<Tensor, Tensor, Tensor> f = (x, b) => (x + b).Gelu() * 0.5 + x;
        var function = Engine.Compile(f);
        Action call = compiled
            ? () => function.Call(x, b).Dispose()
            : () =>
            {
                using (Engine.NoGrad())
                using (Engine.Scope())
                    f(x, b);
            };
        return new PreparedCall(call, function, x, b);
    }

    /// <summary>The Fashion-MNIST CNN with a BatchNorm2d after each convolution, in eval mode.</summary>
    private static PreparedCall Cnn(Mode mode, int batch)
    {
        var model = new Sequential(
            new Conv2d(1, 32, kernelSize: 5, padding: 2), new BatchNorm2d(32), new Relu(), new MaxPool2d(2),
            new Conv2d(32, 64, kernelSize: 5, padding: 2), new BatchNorm2d(64), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));
        model.Eval();
        var x = Tensor.Rand([batch, 1, 28, 28]);
        var compiled = mode == Mode.CompiledFrozen ? Engine.Compile(model, new Kiln.Compile.CompileOptions { FreezeParameters = true }) : Engine.Compile(model);
        return new PreparedCall(Call(mode, model, compiled, x, null), [compiled, x, .. model.Parameters()]);
    }

    private static Action Call(Mode mode, Module model, Kiln.Compile.CompiledFunction compiled, Tensor x, Tensor? output) => mode switch
    {
        Mode.Eager => () =>
        {
            using (Engine.NoGrad())
            using (Engine.Scope())
                model.Call(x);
        },
        Mode.CompiledInto => () => compiled.CallInto(x, output!),
        _ => () => compiled.Call(x).Dispose(),
    };

    /// <summary>A compiled 1-element add: the replay's own cost per call (compare the eager group's add).</summary>
    private static PreparedCall Add()
    {
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        var compiled = Engine.Compile((x, y) => x + y);
        return new PreparedCall(() => compiled.Call(a, b).Dispose(), compiled, a, b);
    }

    private enum Mode { Eager, Compiled, CompiledInto, CompiledFrozen }

    private static PreparedCall Mlp(Mode mode, int batch = 1)
    {
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        model.Eval();
        var x = Tensor.Rand([batch, 1, 28, 28]);
        var output = Tensor.Zeros([batch, 10]);
        var compiled = mode == Mode.CompiledFrozen ? Engine.Compile(model, new Kiln.Compile.CompileOptions { FreezeParameters = true }) : Engine.Compile(model);
        return new PreparedCall(Call(mode, model, compiled, x, output), [compiled, x, output, .. model.Parameters()]);
    }
}
