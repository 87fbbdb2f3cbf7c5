using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Cross entropy of logits [N, C] against class indices [N] (int64) as one primitive: each row's
/// log-sum-exp and the target's logit in one pass, then the reduction (the composite log-softmax,
/// gather, mask and sums took about twice PyTorch's time at batch 64). Supports an ignored index,
/// label smoothing and every reduction; class weights, probability targets and extra dimensions
/// stay with the composite in F.CrossEntropy, which is also this op's reference decomposition.
/// </summary>
internal sealed class CrossEntropyOp : OpDef<CrossEntropyOp.Attributes>
{
    /// <summary>How the per-row losses are combined.</summary>
    internal enum Reduction
    {
        /// <summary>Sum over the rows whose target is not ignored, divided by their count.</summary>
        Mean,
        Sum,
        /// <summary>One loss per row ([N]; 0 for ignored rows).</summary>
        None,
    }

    internal sealed record Attributes(long IgnoreIndex = -100, Reduction Mode = Reduction.Mean, double LabelSmoothing = 0) : OpAttributes
    {
        /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
        internal override void Write(AttributeWriter writer)
        {
            writer.Int64(IgnoreIndex);
            writer.Choice((int)Mode);
            writer.Float64(LabelSmoothing);
        }

        internal static Attributes Read(AttributeReader reader) => new(reader.Int64("ignore_index"), (Reduction)reader.Choice("reduction", 3), reader.Float64("label_smoothing", 0, 1));

        [ModuleInitializer]
        internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;

        /// <summary>The output shape: [N] without reduction, else a scalar.</summary>
        internal Shape OutputShape(int rows) => Mode == Reduction.None ? new Shape(rows) : new Shape();

        /// <summary>Checks the logits and targets at inputs[<paramref name="first"/>] and the next; errors name every input.</summary>
        internal void Check(OpDef op, ReadOnlySpan<TensorSpec> inputs, int first = 0)
        {
            var (x, target) = (inputs[first], inputs[first + 1]);
            if (!x.DType.IsFloatingPoint()) throw op.Error($"logits must be floating point, got {x.DType.Name()}", inputs);
            if (x.Shape.Rank != 2) throw op.Error($"logits must be [N, C], got rank {x.Shape.Rank}", inputs);
            if (x.Shape[1] == 0) throw op.Error("logits need at least one class", inputs);
            if (target.DType != DType.Int64) throw op.Error($"targets must be int64 class indices, got {target.DType.Name()}", inputs);
            if (target.Shape.Rank != 1 || target.Shape[0] != x.Shape[0])
                throw op.Error($"targets must be [{x.Shape[0]}] (one class index per row of the logits), got {target.Shape}", inputs);
            if (!(LabelSmoothing >= 0 && LabelSmoothing <= 1)) throw op.Error($"label smoothing must be in [0, 1], got {LabelSmoothing}", inputs);
        }

        /// <summary>Throws when a target is neither a class index nor the ignored index.</summary>
        internal unsafe void CheckTargets(OpDef op, Tensor x, Tensor target, ReadOnlySpan<Tensor> inputs)
        {
            int rows = x.ShapeArray[0], classes = x.ShapeArray[1];
            int bad = CrossEntropyKernel.FindInvalidTarget(target.Pointer<long>(), rows, classes, IgnoreIndex);
            if (bad >= 0)
                throw op.Error($"target {target.Pointer<long>()[bad]} (row {bad}) is out of range for {classes} classes", Dispatcher.SpecsOf(inputs));
        }

        /// <summary>The factor of the output gradient: 1/(rows not ignored) for the mean, else 1.</summary>
        internal unsafe double GradientScale(Tensor target)
            => Mode == Reduction.Mean ? 1.0 / CrossEntropyKernel.CountValid(target.Pointer<long>(), target.NumElements, IgnoreIndex) : 1.0;

        /// <summary>Float64 per-row losses and the count of rows not ignored, by plain loops (for the references).</summary>
        internal (double[] Losses, int Count) ReferenceLosses(Tensor x, Tensor target)
        {
            int rows = x.ShapeArray[0], classes = x.ShapeArray[1];
            var v = x.ToArray<double>();
            var t = target.ToArray<long>();
            var losses = new double[rows];
            int count = 0;
            for (int i = 0; i < rows; i++)
            {
                if (t[i] == IgnoreIndex) continue;
                count++;
                double max = double.NegativeInfinity;
                for (int c = 0; c < classes; c++) max = Math.Max(max, v[i * classes + c]);
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(v[i * classes + c] - max);
                double logSumExp = max + Math.Log(sum);
                // −Σ_c q_c·log p_c with q = (1 − ε)·one-hot + ε/C and log p_c = x_c − log-sum-exp.
                for (int c = 0; c < classes; c++)
                {
                    double q = (c == t[i] ? 1 - LabelSmoothing : 0) + LabelSmoothing / classes;
                    losses[i] -= q * (v[i * classes + c] - logSumExp);
                }
            }
            return (losses, count);
        }
    }

    internal static readonly CrossEntropyOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "CrossEntropy";
    public override int Arity => 2;

    internal static Tensor Apply(Tensor logits, Tensor target, Attributes a) => Dispatcher.Call(Instance, a, logits, target);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
    {
        a.Check(this, inputs);
        return new TensorSpec(a.OutputShape(inputs[0].Shape[0]), inputs[0].DType);
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
    {
        using var x = new ContiguousInput(inputs[0]);
        using var target = new ContiguousInput(inputs[1]);
        a.CheckTargets(this, x.Tensor, target.Tensor, inputs);
        int rows = x.Tensor.ShapeArray[0], classes = x.Tensor.ShapeArray[1];
        if (output.DType == DType.Float32) Run(x.Pointer<float>(), target.Pointer<long>(), rows, classes, a, output.Pointer<float>());
        else Run(x.Pointer<double>(), target.Pointer<long>(), rows, classes, a, output.Pointer<double>());
    }

    private static unsafe void Run<T>(T* logits, long* labels, int rows, int classes, Attributes a, T* y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (a.Mode == Reduction.None)
        {
            CrossEntropyKernel.Losses(logits, labels, rows, classes, a.IgnoreIndex, a.LabelSmoothing, y);
            return;
        }
        // The per-row losses live on the stack for a usual batch, in a pooled array beyond.
        T[]? rented = rows > 1024 ? System.Buffers.ArrayPool<T>.Shared.Rent(rows) : null;
        try
        {
            Span<T> buffer = rented is null ? stackalloc T[rows] : rented.AsSpan(0, rows);
            fixed (T* losses = buffer)
            {
                CrossEntropyKernel.Losses(logits, labels, rows, classes, a.IgnoreIndex, a.LabelSmoothing, losses);
                T total = CrossEntropyKernel.Sum(losses, rows);
                if (a.Mode == Reduction.Mean) total /= T.CreateChecked(CrossEntropyKernel.CountValid(labels, rows, a.IgnoreIndex));
                *y = total;
            }
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }
    }

    public override Tensor?[] Backward(BackwardContext c, Attributes a)
        => [c.NeedsGrad(0) ? CrossEntropyBackwardOp.Apply(c.Grad, c.Input(0), c.Input(1), a) : null, null];

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
    {
        var (losses, count) = a.ReferenceLosses(inputs[0], inputs[1]);
        return a.Mode switch
        {
            Reduction.None => Tensor.From<double>(losses, losses.Length),
            Reduction.Sum => Tensor.Scalar(losses.Sum(), DType.Float64),
            _ => Tensor.Scalar(losses.Sum() / count, DType.Float64),
        };
    }

    /// <summary>Cases every cross-entropy primitive's samples cover: (description, rows, classes, attributes, seed).</summary>
    internal static IEnumerable<(string Description, int Rows, int Classes, Attributes Attributes)> Cases() =>
    [
        ("mean", 5, 4, new Attributes()),
        ("sum", 6, 3, new Attributes(Mode: Reduction.Sum)),
        ("none", 4, 5, new Attributes(Mode: Reduction.None)),
        ("ignore index 1, mean", 7, 3, new Attributes(IgnoreIndex: 1)),
        ("ignore index 0, none", 5, 3, new Attributes(IgnoreIndex: 0, Mode: Reduction.None)),
        ("label smoothing 0.2, mean", 5, 4, new Attributes(LabelSmoothing: 0.2)),
        ("label smoothing with ignore index, sum", 6, 4, new Attributes(IgnoreIndex: 2, Mode: Reduction.Sum, LabelSmoothing: 0.3)),
        ("one class", 3, 1, new Attributes()),
        ("37 classes (vector body and tail)", 3, 37, new Attributes(LabelSmoothing: 0.1)),
        ("empty batch, sum", 0, 3, new Attributes(Mode: Reduction.Sum)),
    ];

    public override IEnumerable<OpSample> Samples()
    {
        int seed = 900;
        foreach (var (description, rows, classes, a) in Cases())
        {
            int s = seed += 2;
            yield return new OpSample(description, () => [OpSample.Uniform(s, -3, 3, rows, classes), OpSample.Indices(s + 1, classes, rows)], a);
        }
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        static TensorSpec I64(params int[] shape) => new(new Shape(shape), DType.Int64);
        var a = new Attributes();
        yield return new("logits of rank 1", [F32(10), I64(10)], a);
        yield return new("logits of rank 3", [F32(2, 3, 4), I64(2, 4)], a);
        yield return new("targets of the wrong length", [F32(4, 3), I64(5)], a);
        yield return new("float targets", [F32(4, 3), F32(4)], a);
        yield return new("integer logits", [new TensorSpec(new Shape(4, 3), DType.Int64), I64(4)], a);
        yield return new("no classes", [F32(4, 0), I64(4)], a);
        yield return new("label smoothing above 1", [F32(4, 3), I64(4)], new Attributes(LabelSmoothing: 1.5));
    }
}
