using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The per-channel sums a batch-norm backward needs, in one pass over g and x [N, C, ...]: a [2, C]
/// tensor of Σ g (row 0) and Σ g·(x − mean) (row 1). Inputs: g, x, mean [C].
/// </summary>
internal sealed class BatchNormGradSumsOp : OpDef<NoAttributes>
{
    internal static readonly BatchNormGradSumsOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "BatchNormGradSums";
    public override int Arity => 3;
    public override FusionKind Fusion => FusionKind.Reduction;

    internal static Tensor Apply(Tensor g, Tensor x, Tensor mean) => Dispatcher.Call(Instance, NoAttributes.Instance, g, x, mean);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        BatchNormShapes.CheckInput(this, inputs, 0);
        BatchNormShapes.CheckOperand(this, inputs, 1, "x", inputs[0].Shape);
        int channels = inputs[0].Shape[1];
        BatchNormShapes.CheckOperand(this, inputs, 2, "mean", new Shape(channels));
        return new TensorSpec(new Shape(2, channels), inputs[0].DType);
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
    {
        using var g = new ContiguousInput(inputs[0]);
        using var x = new ContiguousInput(inputs[1]);
        using var mean = new ContiguousInput(inputs[2]);
        var geometry = BatchNormShapes.Geometry(x.Tensor.ShapeArray);
        int c = geometry.Channels;
        if (output.DType == DType.Float32)
            BatchNormKernel.GradSums(geometry, g.Pointer<float>(), x.Pointer<float>(), mean.Pointer<float>(), output.Pointer<float>(), output.Pointer<float>() + c);
        else
            BatchNormKernel.GradSums(geometry, g.Pointer<double>(), x.Pointer<double>(), mean.Pointer<double>(), output.Pointer<double>(), output.Pointer<double>() + c);
    }

    // With G = (G0, G1) per channel: d/dg = G0 + G1·(x − mean), d/dx = G1·g, d/dmean = −G1·Σg.
    public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
    {
        var (g, x, mean) = (c.Input(0), c.Input(1), c.Input(2));
        int rank = x.Rank;
        var g0 = c.Grad.Select(0, 0);
        var g1 = c.Grad.Select(0, 1);
        var g1View = BatchNormShapes.ChannelView(g1, rank);
        return
        [
            c.NeedsGrad(0) ? BatchNormShapes.ChannelView(g0, rank) + g1View * (x - BatchNormShapes.ChannelView(mean, rank)) : null,
            c.NeedsGrad(1) ? g1View * g : null,
            c.NeedsGrad(2) ? -(g1 * BatchNormShapes.ChannelSum(g)) : null,
        ];
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
    {
        var g = BatchNormShapes.Channels(inputs[0]);
        var x = BatchNormShapes.Channels(inputs[1]);
        var mean = inputs[2].ToArray<double>();
        int c = g.Length;
        var result = new double[2 * c];
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < g[k].Length; i++)
            {
                result[k] += g[k][i];
                result[c + k] += g[k][i] * (x[k][i] - mean[k]);
            }
        }
        return Tensor.From<double>(result, 2, c);
    }

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 1200;
        foreach (var (description, shape) in BatchNormShapes.Cases())
        {
            int s = seed += 3;
            yield return new OpSample(description,
                () => [OpSample.Uniform(s, -1, 1, shape), OpSample.Uniform(s + 1, 1, 4, shape), OpSample.Uniform(s + 2, 2, 3, shape[1])],
                NoAttributes.Instance);
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        yield return new("x of another shape", [F32(4, 3), F32(4, 2), F32(3)], NoAttributes.Instance);
        yield return new("mean of the wrong length", [F32(4, 3), F32(4, 3), F32(4)], NoAttributes.Instance);
        yield return new("rank 1 grad", [F32(4), F32(4), F32(1)], NoAttributes.Instance);
    }
}
