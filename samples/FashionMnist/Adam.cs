using Kiln;

namespace FashionMnistSample;

/// <summary>
/// Adam (Kingma and Ba), written with tensor ops under <see cref="Engine.NoGrad"/>: just enough for this
/// sample. Kiln.Optim's optimizers, with one fused pass per parameter, arrive with a later issue.
/// </summary>
internal sealed class Adam(IReadOnlyList<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
{
    private readonly Tensor[] _m = parameters.Select(Tensor.ZerosLike).ToArray();
    private readonly Tensor[] _v = parameters.Select(Tensor.ZerosLike).ToArray();
    private int _step;

    internal void ZeroGrad()
    {
        foreach (var p in parameters) p.Grad?.ZeroInPlace();
    }

    internal void Step()
    {
        _step++;
        double correction1 = 1 - Math.Pow(beta1, _step);
        double sqrtCorrection2 = Math.Sqrt(1 - Math.Pow(beta2, _step));
        using var noGrad = Engine.NoGrad();
        using var scope = Engine.Scope();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.Grad is not { } g) continue;
            // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr m^ / (sqrt(v^) + eps)
            _m[i].MulInPlace(beta1).AddInPlace(g * (1 - beta1));
            _v[i].MulInPlace(beta2).AddInPlace(g * g * (1 - beta2));
            p.SubInPlace(_m[i] / (_v[i].Sqrt() / sqrtCorrection2 + eps) * (lr / correction1));
        }
    }
}
