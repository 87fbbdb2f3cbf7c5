using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The logits' gradient of <see cref="CrossEntropyOp"/> in one pass per row: s·(softmax(x) − q) with
/// q = (1 − ε)·one-hot(target) + ε/C, s the output gradient (per row without reduction, divided by
/// the count of rows not ignored for the mean), and 0 on ignored rows. Inputs: grad ([N] or a
/// scalar, as the loss), logits [N, C], targets [N] (int64).
/// </summary>
internal sealed class CrossEntropyBackwardOp : OpDef<CrossEntropyOp.Attributes>
{
    internal static readonly CrossEntropyBackwardOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "CrossEntropyBackward";
    public override int Arity => 3;

    internal static Tensor Apply(Tensor grad, Tensor logits, Tensor target, CrossEntropyOp.Attributes a)
        => Dispatcher.Call(Instance, a, grad, logits, target);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, CrossEntropyOp.Attributes a)
    {
        a.Check(this, inputs, first: 1);
        var (grad, x) = (inputs[0], inputs[1]);
        var expected = a.OutputShape(x.Shape[0]);
        if (grad.Shape != expected || grad.DType != x.DType)
            throw Error($"grad must be {expected} {x.DType.Name()} (the loss's shape and dtype), got {grad.Shape} {grad.DType.Name()}", inputs);
        return x;
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, CrossEntropyOp.Attributes a, Tensor output)
    {
        using var grad = new ContiguousInput(inputs[0]);
        using var x = new ContiguousInput(inputs[1]);
        using var target = new ContiguousInput(inputs[2]);
        a.CheckTargets(this, x.Tensor, target.Tensor, inputs);
        int rows = x.Tensor.ShapeArray[0], classes = x.Tensor.ShapeArray[1];
        bool perRow = a.Mode == CrossEntropyOp.Reduction.None;
        double scale = a.GradientScale(target.Tensor);
        if (output.DType == DType.Float32)
            CrossEntropyKernel.Gradient(x.Pointer<float>(), target.Pointer<long>(), rows, classes, a.IgnoreIndex, a.LabelSmoothing,
                grad.Pointer<float>(), perRow, (float)scale, output.Pointer<float>());
        else
            CrossEntropyKernel.Gradient(x.Pointer<double>(), target.Pointer<long>(), rows, classes, a.IgnoreIndex, a.LabelSmoothing,
                grad.Pointer<double>(), perRow, scale, output.Pointer<double>());
    }

    // The forward is dx = s·(p − q) with p = softmax(x). Given G = d(loss)/d(dx):
    //   d/dx:    s·p·(G − Σ_c G·p)         (softmax's Jacobian)
    //   d/dgrad: Σ_c G·(p − q) per valid row, reduced as the loss was (so divided by the count for the mean).
    public override Tensor?[] Backward(BackwardContext c, CrossEntropyOp.Attributes a)
    {
        var (grad, x, target) = (c.Input(0), c.Input(1), c.Input(2));
        int classes = x.ShapeArray[1];
        var valid = target.Ne(a.IgnoreIndex).To(x.DType);
        var count = valid.Sum();
        var p = x.Softmax(1);
        var g = c.Grad;
        var gp = (g * p).Sum(1);
        Tensor? dGrad = null, dx = null;
        if (c.NeedsGrad(0))
        {
            var safe = target * valid.To(DType.Int64);
            var gq = g.Gather(1, safe.Unsqueeze(1)).Squeeze(1) * (1 - a.LabelSmoothing) + g.Sum(1) * (a.LabelSmoothing / classes);
            var perRow = (gp - gq) * valid;
            dGrad = a.Mode switch
            {
                CrossEntropyOp.Reduction.None => perRow,
                CrossEntropyOp.Reduction.Sum => perRow.Sum(),
                _ => perRow.Sum() / count,
            };
        }
        if (c.NeedsGrad(1))
        {
            var s = a.Mode == CrossEntropyOp.Reduction.Mean ? grad * valid / count : grad * valid;
            dx = s.Unsqueeze(1) * p * (g - gp.Unsqueeze(1));
        }
        return [dGrad, dx, null];
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, CrossEntropyOp.Attributes a)
    {
        var (gradTensor, x, target) = (inputs[0], inputs[1], inputs[2]);
        int rows = x.ShapeArray[0], classes = x.ShapeArray[1];
        var v = x.ToArray<double>();
        var t = target.ToArray<long>();
        var grad = gradTensor.ToArray<double>();
        int count = t.Count(label => label != a.IgnoreIndex);
        var dx = new double[v.Length];
        for (int i = 0; i < rows; i++)
        {
            if (t[i] == a.IgnoreIndex) continue;
            double s = a.Mode switch
            {
                CrossEntropyOp.Reduction.None => grad[i],
                CrossEntropyOp.Reduction.Sum => grad[0],
                _ => grad[0] / count,
            };
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, v[i * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(v[i * classes + c] - max);
            for (int c = 0; c < classes; c++)
            {
                double q = (c == t[i] ? 1 - a.LabelSmoothing : 0) + a.LabelSmoothing / classes;
                dx[i * classes + c] = s * (Math.Exp(v[i * classes + c] - max) / sum - q);
            }
        }
        return Tensor.From<double>(dx, rows, classes);
    }

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 950;
        foreach (var (description, rows, classes, a) in CrossEntropyOp.Cases())
        {
            int s = seed += 3;
            var gradShape = a.OutputShape(rows).ToArray();
            yield return new OpSample(description,
                () => [OpSample.Uniform(s, -1, 1, gradShape), OpSample.Uniform(s + 1, -3, 3, rows, classes), OpSample.Indices(s + 2, classes, rows)], a);
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        static TensorSpec I64(params int[] shape) => new(new Shape(shape), DType.Int64);
        var mean = new CrossEntropyOp.Attributes();
        yield return new("per-row grad for a mean", [F32(4), F32(4, 3), I64(4)], mean);
        yield return new("scalar grad without reduction", [F32(), F32(4, 3), I64(4)], new CrossEntropyOp.Attributes(Mode: CrossEntropyOp.Reduction.None));
        yield return new("float64 grad for float32 logits", [new TensorSpec(new Shape(), DType.Float64), F32(4, 3), I64(4)], mean);
        yield return new("logits of rank 1", [F32(), F32(4), I64(4)], mean);
        yield return new("targets of the wrong length", [F32(), F32(4, 3), I64(3)], mean);
    }
}
