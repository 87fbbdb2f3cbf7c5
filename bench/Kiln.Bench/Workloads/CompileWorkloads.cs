using Kiln.Compile;
using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// MLP (784-256-128-10 ReLU, Flatten first) inference at batch 1, eager against compiled with
/// <c>Engine.Compile(model)</c>: the compiled call replays the traced graph into its planned arena,
/// and "into" writes into a caller's tensor, allocating nothing. A compiled 1-element add shows the
/// replay's fixed cost per call. "constant weights" compiles a function that captures detached copies
/// of the weights, which the compiler packs into GEMM panels once (GemmWeightPrepacking); the module
/// compile reads its parameters live, so it packs them at every call. Kiln only.
/// </summary>
internal static class CompileWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        yield return new Workload("compile", "mlp 784-256-128-10 b1 eager", Unit.Microseconds, 0, () => Mlp(Mode.Eager));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled", Unit.Microseconds, 0, () => Mlp(Mode.Compiled));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled into", Unit.Microseconds, 0, () => Mlp(Mode.CompiledInto));
        foreach (int batch in new[] { 1, 64 })
        {
            yield return new Workload("compile", $"mlp 784-256-128-10 b{batch} compiled parameters", Unit.Microseconds, 0, () => Mlp(Mode.Compiled, batch));
            yield return new Workload("compile", $"mlp 784-256-128-10 b{batch} compiled constant weights", Unit.Microseconds, 0, () => Mlp(Mode.CompiledConstants, batch));
        }
        yield return new Workload("compile", "add 1-element compiled", Unit.Microseconds, 0, Add);
    }

    /// <summary>A compiled 1-element add: the replay's own cost per call (compare the eager group's add).</summary>
    private static PreparedCall Add()
    {
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        var compiled = Engine.Compile((x, y) => x + y);
        return new PreparedCall(() => compiled.Call(a, b).Dispose(), compiled, a, b);
    }

    private enum Mode { Eager, Compiled, CompiledInto, CompiledConstants }

    private static PreparedCall Mlp(Mode mode, int batch = 1)
    {
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        model.Eval();
        var x = Tensor.Rand([batch, 1, 28, 28]);
        var output = Tensor.Zeros([batch, 10]);
        var compiled = mode == Mode.CompiledConstants ? CompileWithConstantWeights(model) : Engine.Compile(model);
        Action call = mode switch
        {
            Mode.Eager => () =>
            {
                using (Engine.NoGrad())
                using (Engine.Scope())
                    model.Call(x);
            },
            Mode.Compiled or Mode.CompiledConstants => () => compiled.Call(x).Dispose(),
            _ => () => compiled.CallInto(x, output),
        };
        return new PreparedCall(call, [compiled, x, output, .. model.Parameters()]);
    }

    /// <summary>The model's forward with its weights captured as detached tensors: graph constants.</summary>
    private static CompiledFunction CompileWithConstantWeights(Sequential model)
    {
        var p = model.Parameters().Select(t => t.Detach()).ToArray();
        return Engine.Compile(x =>
        {
            var h = F.Linear(x.Reshape(x.Shape[0], 784), p[0], p[1]).Relu();
            h = F.Linear(h, p[2], p[3]).Relu();
            return F.Linear(h, p[4], p[5]);
        });
    }
}
