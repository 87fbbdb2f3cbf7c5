using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Per-channel batch statistics of x [N, C, ...]: a [2, C] tensor of the mean (row 0) and the biased
/// variance (row 1), read in place (the composite Mean over dims 0, 2, ... of x and of (x − mean)²
/// made a full-size temporary). Used by <see cref="BatchNormOp"/>'s backward and for running statistics.
/// </summary>
internal sealed class BatchNormStatsOp : OpDef<NoAttributes>
{
    internal static readonly BatchNormStatsOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "BatchNormStats";
    public override int Arity => 1;
    public override bool BackwardReadsOutput => true;
    public override FusionKind Fusion => FusionKind.Reduction;

    internal static Tensor Apply(Tensor x) => Dispatcher.Call(Instance, NoAttributes.Instance, x);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        BatchNormShapes.CheckInput(this, inputs, 0);
        return new TensorSpec(new Shape(2, inputs[0].Shape[1]), inputs[0].DType);
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
    {
        using var x = new ContiguousInput(inputs[0]);
        var g = BatchNormShapes.Geometry(x.Tensor.ShapeArray);
        if (output.DType == DType.Float32)
            BatchNormKernel.Stats(g, x.Pointer<float>(), output.Pointer<float>(), output.Pointer<float>() + g.Channels);
        else
            BatchNormKernel.Stats(g, x.Pointer<double>(), output.Pointer<double>(), output.Pointer<double>() + g.Channels);
    }

    // mean = Σx/M, var = Σ(x − mean)²/M: d mean/dx = 1/M, d var/dx = 2(x − mean)/M (the mean's own
    // variation drops out, as Σ(x − mean) = 0).
    public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
    {
        var x = c.Input(0);
        int rank = x.Rank;
        double count = (double)x.NumElements / x.ShapeArray[1];
        var mean = BatchNormShapes.ChannelView(c.Output.Select(0, 0), rank);
        var gMean = BatchNormShapes.ChannelView(c.Grad.Select(0, 0), rank);
        var gVar = BatchNormShapes.ChannelView(c.Grad.Select(0, 1), rank);
        return [(x - mean) * (gVar * (2 / count)) + gMean / count];
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
    {
        var channels = BatchNormShapes.Channels(inputs[0]);
        int c = channels.Length;
        var result = new double[2 * c];
        for (int k = 0; k < c; k++)
        {
            double mean = channels[k].Average();
            result[k] = mean;
            result[c + k] = channels[k].Select(v => (v - mean) * (v - mean)).Average();
        }
        return Tensor.From<double>(result, 2, c);
    }

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 1100;
        foreach (var (description, shape) in BatchNormShapes.Cases())
        {
            int s = ++seed;
            // An offset mean, so the variance is not the mean of squares by accident.
            yield return new OpSample(description, () => [OpSample.Uniform(s, 1, 4, shape)], NoAttributes.Instance);
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        new("rank 1 input", [new TensorSpec(new Shape(6), DType.Float32)], NoAttributes.Instance),
        new("integer input", [new TensorSpec(new Shape(4, 3), DType.Int64)], NoAttributes.Instance),
    ];
}
