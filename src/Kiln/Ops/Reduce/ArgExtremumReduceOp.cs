using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// ArgMax and ArgMin: the position (int64) of the extreme value along one dimension, or in the
/// flattened tensor when no dimension is given. Ties give the first position; NaN wins. Not
/// differentiable. Each op's file gives its name, registration and entry points.
/// </summary>
internal abstract class ArgExtremumReduceOp<TWhich> : OpDef<ReduceAttributes> where TWhich : struct, IExtremum
{
    public override int Arity => 1;
    public override FusionKind Fusion => FusionKind.Reduction;
    public override bool IsDifferentiable => false;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
    {
        ReduceAttributes.RequireDType(this, inputs, integers: true);
        if (a.Axes.Count > 1) throw Error($"takes one dimension or none (all), got {a.Axes}", inputs);
        var shape = a.OutputShape(this, inputs);
        a.RequireNonEmpty(this, inputs);
        return new TensorSpec(shape, DType.Int64);
    }

    public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
        => ReduceDispatch.ArgReduce<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], a, output);

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
        => a.ReferenceReduce(this, inputs[0], values =>
        {
            int best = 0;
            for (int i = 1; i < values.Count; i++)
                if (!double.IsNaN(values[best]) && (double.IsNaN(values[i]) || (TWhich.IsLargest ? values[i] > values[best] : values[i] < values[best])))
                    best = i;
            return best;
        });

    public override IEnumerable<OpSample> Samples() =>
    [
        new("all", () => [OpSample.Uniform(71, -2, 2, 4, 5)], ReduceAttributes.All(false)),
        new("all keep", () => [OpSample.Uniform(72, -2, 2, 3, 4)], ReduceAttributes.All(true)),
        new("dim 1", () => [OpSample.Uniform(73, -2, 2, 4, 5)], new ReduceAttributes(new IntList(1), false)),
        new("dim 0 keep", () => [OpSample.Uniform(74, -2, 2, 4, 5)], new ReduceAttributes(new IntList(0), true)),
        new("dim 1 of 3-d", () => [OpSample.Uniform(75, -2, 2, 3, 4, 5)], new ReduceAttributes(new IntList(1), false)),
        new("scalar", () => [OpSample.Uniform(76, -2, 2)], ReduceAttributes.All(false)),
        new("long rows", () => [OpSample.Uniform(77, -2, 2, 3, 1100)], new ReduceAttributes(new IntList(1), false)),
        new("long columns", () => [OpSample.Uniform(78, -2, 2, 259, 3)], new ReduceAttributes(new IntList(0), false)),
    ];

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        .. ReduceAttributes.StandardInvalidSamples(),
        new("two dimensions", [new TensorSpec(new Shape(2, 3, 4), DType.Float32)], new ReduceAttributes(new IntList(0, 1), false)),
        new("empty reduced dimension", [new TensorSpec(new Shape(0, 3), DType.Float32)], new ReduceAttributes(new IntList(0), false)),
        new("empty tensor", [new TensorSpec(new Shape(0), DType.Float32)], ReduceAttributes.All(false)),
    ];

    internal readonly struct Operator<T> : IArgReduceOperator<T> where T : unmanaged, INumber<T>
    {
        // The branches on TWhich fold away, but only after inlining decisions that count them: force it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Better(T candidate, T best)
            => (TWhich.IsLargest ? candidate > best : candidate < best) || (T.IsNaN(candidate) && !T.IsNaN(best));

        // NaN lanes are the ones not equal to themselves.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> Better(Vector256<T> candidate, Vector256<T> best)
            => (TWhich.IsLargest ? Vector256.GreaterThan(candidate, best) : Vector256.LessThan(candidate, best))
                | Vector256.AndNot(Vector256.Equals(best, best), Vector256.Equals(candidate, candidate));

        public static int IndexOfBest(ReadOnlySpan<T> x)
        {
            // TensorPrimitives gives the first winner (the first NaN if any) but ranks +0 above -0,
            // which PyTorch treats as a tie: for a zero result, the first zero of either sign wins.
            int i = TWhich.IsLargest ? TensorPrimitives.IndexOfMax(x) : TensorPrimitives.IndexOfMin(x);
            if (T.IsZero(x[i]))
            {
                for (int k = 0; k < i; k++)
                    if (T.IsZero(x[k])) return k;
            }
            return i;
        }
    }
}
