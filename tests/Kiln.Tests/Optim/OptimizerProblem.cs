using System.Numerics;
using Kiln.Optim;

namespace Kiln.Tests.Optim;

/// <summary>
/// The fixed problem of OptimizerTrajectories (see the script there): w (shape [3, 5]) in group 0 and b (3
/// values) in group 1; the gradient of p is c·(p − t) + 0.1·p·p·p, formed here with plain arithmetic in the
/// parameter's dtype in the same order as the script, so it is bit-identical to PyTorch's; b has no gradient
/// at step index 3.
/// </summary>
internal sealed class OptimizerProblem : IDisposable
{
    internal static readonly double[] W0 = Enumerable.Range(0, 15).Select(i => (0.5 + 0.1 * i) * (i % 2 == 0 ? 1 : -1)).ToArray();
    internal static readonly double[] B0 = Enumerable.Range(0, 3).Select(i => (1.0 + 0.25 * i) * (i % 2 == 0 ? -1 : 1)).ToArray();
    private static readonly double[] CW = Enumerable.Range(0, 15).Select(i => 1 + 0.1 * i).ToArray();
    private static readonly double[] CB = Enumerable.Range(0, 3).Select(i => 2 - 0.3 * i).ToArray();

    /// <summary>The names of the PyTorch cases, as in OptimizerTrajectories.</summary>
    internal static readonly string[] Cases =
    [
        "SgdPlain", "SgdMomentumDampening", "SgdNesterov", "SgdMaximize", "Adam", "AdamWeightDecayAmsgrad", "AdamW",
        "RmsProp", "RmsPropCenteredMomentum", "RmsPropCentered", "Adagrad", "AdagradDecay",
    ];

    internal OptimizerProblem(DType dtype, double[]? w = null, double[]? b = null)
    {
        DType = dtype;
        W = Create(w ?? W0, [3, 5], dtype);
        B = Create(b ?? B0, [3], dtype);
        W.RequiresGrad = true;
        B.RequiresGrad = true;
    }

    internal DType DType { get; }

    internal Tensor W { get; }

    internal Tensor B { get; }

    /// <summary>The optimizer of case <paramref name="name"/>, with the same groups and options as the script.</summary>
    internal Optimizer Make(string name) => name switch
    {
        "SgdPlain" => new Sgd([new ParamGroup([W]), new ParamGroup([B]) { Lr = 0.05 }], lr: 0.1),
        "SgdMomentumDampening" => new Sgd([new ParamGroup([W]), new ParamGroup([B]) { Momentum = 0.5 }], lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
        "SgdNesterov" => new Sgd([new ParamGroup([W]), new ParamGroup([B]) { Lr = 0.02, Maximize = true }], lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05),
        "SgdMaximize" => new Sgd([new ParamGroup([W]), new ParamGroup([B])], lr: 0.05, momentum: 0.5, maximize: true),
        "Adam" => new Adam([new ParamGroup([W]), new ParamGroup([B]) { Lr = 0.05, Beta1 = 0.8, Beta2 = 0.99 }], lr: 0.01),
        "AdamWeightDecayAmsgrad" => new Adam([new ParamGroup([W]), new ParamGroup([B]) { Amsgrad = false, Eps = 1e-6, Maximize = true }], lr: 0.01, weightDecay: 0.1, amsgrad: true),
        "AdamW" => new AdamW([new ParamGroup([W]), new ParamGroup([B]) { WeightDecay = 0.5, Amsgrad = true }], lr: 0.01, weightDecay: 0.1),
        "RmsProp" => new RmsProp([new ParamGroup([W]), new ParamGroup([B]) { Alpha = 0.9 }], lr: 0.01),
        "RmsPropCenteredMomentum" => new RmsProp([new ParamGroup([W]), new ParamGroup([B]) { Centered = false, Momentum = 0.5 }], lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01),
        "RmsPropCentered" => new RmsProp([new ParamGroup([W]), new ParamGroup([B]) { Momentum = 0.8, Maximize = true }], lr: 0.005, centered: true),
        "Adagrad" => new Adagrad([new ParamGroup([W]), new ParamGroup([B]) { Lr = 0.5 }], lr: 0.1),
        "AdagradDecay" => new Adagrad([new ParamGroup([W]), new ParamGroup([B]) { LrDecay = 0, Eps = 1e-6 }], lr: 0.1, lrDecay: 0.05, initialAccumulatorValue: 0.1, weightDecay: 0.01),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Sets the gradients of step <paramref name="step"/> (0-based) from the current parameter values.</summary>
    internal void SetGradients(int step)
    {
        Replace(W, Gradient(W, CW));
        Replace(B, step == 3 ? null : Gradient(B, CB));
    }

    /// <summary>w's 15 values then b's 3, as float64.</summary>
    internal double[] Values() => [.. TestTensors.Values(W), .. TestTensors.Values(B)];

    public void Dispose()
    {
        W.Grad?.Dispose();
        B.Grad?.Dispose();
        W.Dispose();
        B.Dispose();
    }

    /// <summary>A leaf holding <paramref name="values"/> rounded to <paramref name="dtype"/>, as torch.tensor(list, dtype) rounds them.</summary>
    internal static Tensor Create(double[] values, int[] shape, DType dtype)
        => (dtype == DType.Float32 ? Tensor.From<float>(values.Select(v => (float)v).ToArray(), shape) : Tensor.From<double>(values, shape)).DetachFromScope();

    private static void Replace(Tensor p, Tensor? grad)
    {
        var old = p.Grad;
        p.Grad = grad?.DetachFromScope();
        old?.Dispose();
    }

    private Tensor Gradient(Tensor p, double[] c)
        => DType == DType.Float32 ? Gradient<float>(p, c) : Gradient<double>(p, c);

    private static Tensor Gradient<T>(Tensor p, double[] c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = p.ToArray<T>();
        var grad = new T[values.Length];
        T tenth = T.CreateTruncating(0.1);
        var start = p.NumElements == 15 ? W0 : B0;
        for (int i = 0; i < values.Length; i++)
        {
            T x = values[i];
            T target = T.CreateTruncating(start[i] * 0.5);
            grad[i] = T.CreateTruncating(c[i]) * (x - target) + tenth * x * x * x;
        }
        return Tensor.From<T>(grad, p.ShapeArray);
    }
}
