using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// MLP (784-256-128-10 ReLU, Flatten first) inference at batch 1, eager against compiled with
/// <c>Engine.Compile(model)</c>: the compiled call replays the traced graph into its planned arena,
/// and "into" writes into a caller's tensor, allocating nothing. A compiled 1-element add shows the
/// replay's fixed cost per call. Kiln only.
/// </summary>
internal static class CompileWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        yield return new Workload("compile", "mlp 784-256-128-10 b1 eager", Unit.Microseconds, 0, () => Mlp(Mode.Eager));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled", Unit.Microseconds, 0, () => Mlp(Mode.Compiled));
        yield return new Workload("compile", "mlp 784-256-128-10 b1 compiled into", Unit.Microseconds, 0, () => Mlp(Mode.CompiledInto));
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

    private enum Mode { Eager, Compiled, CompiledInto }

    private static PreparedCall Mlp(Mode mode)
    {
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        model.Eval();
        var x = Tensor.Rand([1, 1, 28, 28]);
        var output = Tensor.Zeros([1, 10]);
        var compiled = Engine.Compile(model);
        Action call = mode switch
        {
            Mode.Eager => () =>
            {
                using (Engine.NoGrad())
                using (Engine.Scope())
                    model.Call(x);
            },
            Mode.Compiled => () => compiled.Call(x).Dispose(),
            _ => () => compiled.CallInto(x, output),
        };
        return new PreparedCall(call, [compiled, x, output, .. model.Parameters()]);
    }
}
