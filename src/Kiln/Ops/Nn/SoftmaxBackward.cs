using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The input gradient of <see cref="SoftmaxOp"/> (dx = y·(g − Σ g·y)) or, with Log, of
/// <see cref="LogSoftmaxOp"/> (dx = g − exp(y)·Σ g), along one dimension from the output y and its
/// gradient g, two passes per row (the composite took five full-size ops, about three times
/// PyTorch's backward on [256, 1000]). Inputs: grad, output.
/// </summary>
internal sealed class SoftmaxBackwardOp : OpDef<SoftmaxBackwardOp.Attributes>
{
    internal sealed record Attributes(int Dim, bool Log) : OpAttributes
    {
        /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
        internal override void Write(AttributeWriter writer)
        {
            writer.Int32(Dim);
            writer.Bool(Log);
        }

        internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"), reader.Bool("log"));

        [ModuleInitializer]
        internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
    }

    internal static readonly SoftmaxBackwardOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "SoftmaxBackward";
    public override int Arity => 2;

    internal static Tensor Apply(Tensor grad, Tensor output, int dim, bool log) => Dispatcher.Call(Instance, new Attributes(dim, log), grad, output);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
    {
        var (g, y) = (inputs[0], inputs[1]);
        new SoftmaxOp.Attributes(a.Dim).Check(this, inputs[1..]);
        if (g.Shape != y.Shape || g.DType != y.DType)
            throw Error($"grad must have the output's shape and dtype {y.Shape} {y.DType.Name()}, got {g.Shape} {g.DType.Name()}", inputs);
        return y;
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
    {
        using var g = new ContiguousInput(inputs[0]);
        using var y = new ContiguousInput(inputs[1]);
        var (outer, n, inner) = Split(output.ShapeArray, a.Dim);
        if (output.DType == DType.Float32) SoftmaxKernel.Backward(outer, n, inner, g.Pointer<float>(), y.Pointer<float>(), output.Pointer<float>(), a.Log);
        else SoftmaxKernel.Backward(outer, n, inner, g.Pointer<double>(), y.Pointer<double>(), output.Pointer<double>(), a.Log);
    }

    /// <summary>The shape as [outer, n, inner] around <paramref name="dim"/> (a scalar is one row of one).</summary>
    private static (int Outer, int N, int Inner) Split(int[] shape, int dim)
    {
        if (shape.Length == 0) return (1, 1, 1);
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= shape[d];
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[dim], inner);
    }

    // Softmax, dx = y·(g − s) with s = Σ g·y: linear in g (its adjoint is the same map), and
    //   d/dy = G·(g − s) − g·Σ G·y.
    // Log-softmax, dx = g − exp(y)·Σ g:
    //   d/dg = G − Σ G·exp(y),  d/dy = −G·exp(y)·Σ g.
    public override Tensor?[] Backward(BackwardContext c, Attributes a)
    {
        var (g, y, G) = (c.Input(0), c.Input(1), c.Grad);
        int dim = a.Dim;
        if (!a.Log)
        {
            return
            [
                c.NeedsGrad(0) ? Apply(G, y, dim, log: false) : null,
                c.NeedsGrad(1) ? G * (g - (g * y).Sum(dim, keepDim: true)) - g * (G * y).Sum(dim, keepDim: true) : null,
            ];
        }
        var p = y.Exp();
        return
        [
            c.NeedsGrad(0) ? G - (G * p).Sum(dim, keepDim: true) : null,
            c.NeedsGrad(1) ? -(G * p * g.Sum(dim, keepDim: true)) : null,
        ];
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
    {
        var g = inputs[0].ToArray<double>();
        var y = inputs[1].ToArray<double>();
        var (outer, n, inner) = Split(inputs[1].ShapeArray, a.Dim);
        var dx = new double[y.Length];
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int At(int k) => (o * n + k) * inner + i;
            double s = 0;
            for (int k = 0; k < n; k++) s += a.Log ? g[At(k)] : g[At(k)] * y[At(k)];
            for (int k = 0; k < n; k++)
                dx[At(k)] = a.Log ? g[At(k)] - Math.Exp(y[At(k)]) * s : y[At(k)] * (g[At(k)] - s);
        }
        return Tensor.From<double>(dx, inputs[1].ShapeArray);
    }

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 1000;
        foreach (bool log in new[] { false, true })
        {
            // Log-softmax outputs are log-probabilities (at most 0); softmax outputs lie in (0, 1).
            double low = log ? -4 : 0.01, high = log ? 0 : 1;
            foreach (var (description, shape, dim) in new (string, int[], int)[]
            {
                ("last dim", [4, 6], 1),
                ("dim 0", [5, 3], 0),
                ("middle dim of 3-d", [2, 4, 3], 1),
                ("long rows", [3, 37], 1),
                ("vector", [7], 0),
                ("scalar", [], 0),
                ("empty", [0, 4], 1),
            })
            {
                int s = seed += 2;
                yield return new OpSample($"{(log ? "log-softmax" : "softmax")}, {description}",
                    () => [OpSample.Uniform(s, -1, 1, shape), OpSample.Uniform(s + 1, low, high, shape)], new Attributes(dim, log));
            }
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        yield return new("grad of another shape", [F32(2, 4), F32(2, 3)], new Attributes(1, false));
        yield return new("dimension out of range", [F32(2, 3), F32(2, 3)], new Attributes(2, true));
        yield return new("integer output", [F32(2, 3), new TensorSpec(new Shape(2, 3), DType.Int64)], new Attributes(1, false));
    }
}
