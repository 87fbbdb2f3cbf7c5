using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Max and Min (values): the extreme value over some dimensions (all when none are given), as
/// PyTorch's amax/amin: NaN wins. The gradient goes to the positions holding the result, split
/// equally among ties. Each op's file gives its name, registration and entry points.
/// </summary>
internal abstract class ExtremumReduceOp<TWhich> : OpDef<ReduceAttributes> where TWhich : struct, IExtremum
{
    public override int Arity => 1;
    public override FusionKind Fusion => FusionKind.Reduction;
    public override bool BackwardReadsOutput => true;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
    {
        var dtype = ReduceAttributes.RequireDType(this, inputs, integers: true);
        var shape = a.OutputShape(this, inputs);
        a.RequireNonEmpty(this, inputs);
        return new TensorSpec(shape, dtype);
    }

    public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
        => ReduceDispatch.Reduce<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], a, output);

    public override Tensor?[] Backward(BackwardContext c, ReduceAttributes a) => [ReduceBackward.ToExtremes(c, a)];

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
        => a.ReferenceReduce(this, inputs[0], values =>
        {
            double best = values[0];
            foreach (var v in values)
                if (double.IsNaN(v) || (TWhich.IsLargest ? v > best : v < best)) best = double.IsNaN(best) ? best : v;
            return best;
        });

    // Uniform samples have no ties, so the gradient is defined at every sampled point.
    public override IEnumerable<OpSample> Samples() => ReduceAttributes.StandardSamples(-2, 2);

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        .. ReduceAttributes.StandardInvalidSamples(),
        new("empty reduced dimension", [new TensorSpec(new Shape(2, 0), DType.Float32)], new ReduceAttributes(new IntList(1), false)),
        new("bool input", [new TensorSpec(new Shape(2, 3), DType.Bool)], ReduceAttributes.All(false)),
    ];

    internal readonly struct Operator<T> : IReduceOperator<T> where T : unmanaged, INumber<T>
    {
        public static T Identity => T.CreateSaturating(TWhich.IsLargest ? double.NegativeInfinity : double.PositiveInfinity);

        // The branches on TWhich fold away, but only after inlining decisions that count them: force it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Combine(T a, T b) => TWhich.IsLargest ? T.Max(a, b) : T.Min(a, b);

        public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => Accumulate(x, accumulator);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch) => TWhich.IsLargest ? TensorPrimitives.Max(x) : TensorPrimitives.Min(x);

        public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination) => x.CopyTo(destination);

        public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch) => Accumulate(x, accumulator);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate(ReadOnlySpan<T> x, Span<T> accumulator)
        {
            if (TWhich.IsLargest) TensorPrimitives.Max(accumulator, x, accumulator);
            else TensorPrimitives.Min(accumulator, x, accumulator);
        }
    }
}
