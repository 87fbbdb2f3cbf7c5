using Kiln.NN;

namespace Kiln.Bench.Workloads;

/// <summary>
/// Per-call overhead of eager mode on tiny problems, in microseconds: a 1-element add, a 64→10
/// linear layer at batch 1, and a 784-256-128-10 ReLU MLP at batch 1 (inference, and forward plus
/// backward through a cross-entropy loss). Single ops release their output at once; the MLP runs in
/// a scope, as user code does.
/// </summary>
internal static class EagerWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        yield return new Workload("eager", "add 1-element", Unit.Microseconds, 0, Add);
        yield return new Workload("eager", "linear 64->10 b1", Unit.Microseconds, 0, Linear);
        yield return new Workload("eager", "mlp 784-256-128-10 fwd b1", Unit.Microseconds, 0, () => Mlp(backward: false));
        yield return new Workload("eager", "mlp 784-256-128-10 fwd+bwd b1", Unit.Microseconds, 0, () => Mlp(backward: true));
    }

    private static PreparedCall Add()
    {
        var a = Tensor.Ones([1]);
        var b = Tensor.Ones([1]);
        return new PreparedCall(() =>
        {
            using var c = a.Add(b);
        }, a, b);
    }

    private static PreparedCall Linear()
    {
        var x = Tensor.Randn([1, 64]);
        var w = Tensor.Randn([10, 64]);
        var b = Tensor.Randn([10]);
        return new PreparedCall(() =>
        {
            using var y = F.Linear(x, w, b);
        }, x, w, b);
    }

    private static PreparedCall Mlp(bool backward)
    {
        int[] sizes = [784, 256, 128, 10];
        var parameters = new List<Tensor>();
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            var w = Tensor.Uniform(-0.05, 0.05, [sizes[i + 1], sizes[i]]);
            var b = Tensor.Zeros([sizes[i + 1]]);
            w.RequiresGrad = backward;
            b.RequiresGrad = backward;
            parameters.Add(w);
            parameters.Add(b);
        }
        var x = Tensor.Rand([1, 784]);
        var label = Tensor.From<long>([3L]);
        var weights = parameters.ToArray();

        Tensor Forward()
        {
            var h = F.Linear(x, weights[0], weights[1]).Relu();
            h = F.Linear(h, weights[2], weights[3]).Relu();
            return F.Linear(h, weights[4], weights[5]);
        }

        Action call = backward
            ? () =>
            {
                using (Engine.Scope())
                    F.CrossEntropy(Forward(), label).Backward();
                foreach (var p in weights)
                {
                    p.Grad?.Dispose();
                    p.Grad = null;
                }
            }
            : () =>
            {
                using (Engine.NoGrad())
                using (Engine.Scope())
                    Forward();
            };
        return new PreparedCall(call, [.. weights, x, label]);
    }
}
