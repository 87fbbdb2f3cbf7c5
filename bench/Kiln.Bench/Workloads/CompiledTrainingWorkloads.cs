using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Bench.Workloads;

/// <summary>
/// One training step of the MLP (784-256-128-10 ReLU, Flatten first) with Adam at batch 64, eager
/// (forward, loss, ZeroGrad, Backward, Step inside a scope) against the step compiled with
/// <c>Engine.CompileStep</c> (forward and backward replayed from one planned graph, then Adam's fused
/// update; StepInto allocates nothing). The steps cycle through 16 batches of random labels, so the
/// model does not fit them within a measurement and its gradients keep their magnitude (one repeated
/// batch is memorized within seconds, and the vanishing gradients turn subnormal, which is slow). Kiln only.
/// </summary>
internal static class CompiledTrainingWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        yield return new Workload("compile-train", "mlp 784-256-128-10 adam b64 step eager", Unit.Microseconds, 0, () => Mlp(compiled: false));
        yield return new Workload("compile-train", "mlp 784-256-128-10 adam b64 step compiled", Unit.Microseconds, 0, () => Mlp(compiled: true));
    }

    private static PreparedCall Mlp(bool compiled)
    {
        var model = new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        var xs = new Tensor[16];
        var ys = new Tensor[16];
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] = Tensor.Rand([64, 1, 28, 28]);
            ys[i] = Tensor.RandInt(10, [64]);
        }
        int next = 0;
        var loss = Tensor.Zeros([]);
        var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer);
        Action call = compiled
            ? () =>
            {
                next = (next + 1) % xs.Length;
                step.StepInto(xs[next], ys[next], loss);
            }
            : () =>
            {
                next = (next + 1) % xs.Length;
                using var scope = Engine.Scope();
                var value = F.CrossEntropy(model.Call(xs[next]), ys[next]);
                optimizer.ZeroGrad();
                value.Backward();
                optimizer.Step();
            };
        return new PreparedCall(call, [step, optimizer, loss, .. xs, .. ys, .. model.Parameters()]);
    }
}
