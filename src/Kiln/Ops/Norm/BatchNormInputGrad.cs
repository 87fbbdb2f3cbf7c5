using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The input gradient of a batch norm in one pass: k0·g + k1·(x − mean) + k2 per channel over
/// g and x [N, C, ...], with the coefficients given as a [3, C] tensor (k0 = w/σ, k1 = −w·Σg(x − mean)/(M·σ³),
/// k2 = −w·Σg/(M·σ), see <see cref="BatchNormOp"/>). Inputs: g, x, mean [C], coefficients [3, C].
/// </summary>
internal sealed class BatchNormInputGradOp : OpDef<NoAttributes>
{
    internal static readonly BatchNormInputGradOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "BatchNormInputGrad";
    public override int Arity => 4;
    public override FusionKind Fusion => FusionKind.Elementwise;

    internal static Tensor Apply(Tensor g, Tensor x, Tensor mean, Tensor coefficients)
        => Dispatcher.Call(Instance, NoAttributes.Instance, g, x, mean, coefficients);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        BatchNormShapes.CheckInput(this, inputs, 0);
        BatchNormShapes.CheckOperand(this, inputs, 1, "x", inputs[0].Shape);
        int channels = inputs[0].Shape[1];
        BatchNormShapes.CheckOperand(this, inputs, 2, "mean", new Shape(channels));
        BatchNormShapes.CheckOperand(this, inputs, 3, "coefficients", new Shape(3, channels));
        return inputs[0];
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
    {
        using var g = new ContiguousInput(inputs[0]);
        using var x = new ContiguousInput(inputs[1]);
        using var mean = new ContiguousInput(inputs[2]);
        using var k = new ContiguousInput(inputs[3]);
        var geometry = BatchNormShapes.Geometry(x.Tensor.ShapeArray);
        int c = geometry.Channels;
        if (output.DType == DType.Float32)
        {
            float* kp = k.Pointer<float>();
            BatchNormKernel.Affine(geometry, g.Pointer<float>(), x.Pointer<float>(), mean.Pointer<float>(), kp, kp + c, kp + 2 * c, output.Pointer<float>());
        }
        else
        {
            double* kp = k.Pointer<double>();
            BatchNormKernel.Affine(geometry, g.Pointer<double>(), x.Pointer<double>(), mean.Pointer<double>(), kp, kp + c, kp + 2 * c, output.Pointer<double>());
        }
    }

    // Linear in g and in x − mean: d/dg = k0·G, d/dx = k1·G, d/dmean = −k1·ΣG, and the coefficients
    // get (ΣG·g, ΣG·(x − mean), ΣG) per channel.
    public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
    {
        var (g, x, mean, k) = (c.Input(0), c.Input(1), c.Input(2), c.Input(3));
        int rank = x.Rank;
        var G = c.Grad;
        var k1 = k.Select(0, 1);
        Tensor? dk = null;
        if (c.NeedsGrad(3))
        {
            var centered = x - BatchNormShapes.ChannelView(mean, rank);
            dk = Tensor.Stack([BatchNormShapes.ChannelSum(G * g), BatchNormShapes.ChannelSum(G * centered), BatchNormShapes.ChannelSum(G)]);
        }
        return
        [
            c.NeedsGrad(0) ? BatchNormShapes.ChannelView(k.Select(0, 0), rank) * G : null,
            c.NeedsGrad(1) ? BatchNormShapes.ChannelView(k1, rank) * G : null,
            c.NeedsGrad(2) ? -(k1 * BatchNormShapes.ChannelSum(G)) : null,
            dk,
        ];
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
    {
        var g = BatchNormShapes.Channels(inputs[0]);
        var x = BatchNormShapes.Channels(inputs[1]);
        var mean = inputs[2].ToArray<double>();
        var k = inputs[3].ToArray<double>();
        int c = g.Length;
        var result = new double[c][];
        for (int ch = 0; ch < c; ch++)
        {
            result[ch] = new double[g[ch].Length];
            for (int i = 0; i < g[ch].Length; i++)
                result[ch][i] = k[ch] * g[ch][i] + k[c + ch] * (x[ch][i] - mean[ch]) + k[2 * c + ch];
        }
        return BatchNormShapes.FromChannels(result, inputs[0].ShapeArray);
    }

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 1300;
        foreach (var (description, shape) in BatchNormShapes.Cases())
        {
            int s = seed += 4;
            yield return new OpSample(description,
                () => [OpSample.Uniform(s, -1, 1, shape), OpSample.Uniform(s + 1, 1, 4, shape), OpSample.Uniform(s + 2, 2, 3, shape[1]),
                    OpSample.Uniform(s + 3, -2, 2, 3, shape[1])],
                NoAttributes.Instance);
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        yield return new("x of another shape", [F32(4, 3), F32(4, 2), F32(3), F32(3, 3)], NoAttributes.Instance);
        yield return new("coefficients of the wrong shape", [F32(4, 3), F32(4, 3), F32(3), F32(2, 3)], NoAttributes.Instance);
        yield return new("rank 1 grad", [F32(4), F32(4), F32(1), F32(3, 1)], NoAttributes.Instance);
    }
}
