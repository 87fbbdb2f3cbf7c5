using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Product over some dimensions (all when none are given). Integer and bool inputs give int64, as in
    /// PyTorch. The gradient is the product of the other elements, exact also where inputs are zero.
    /// </summary>
    internal sealed class ProdOp : OpDef<ReduceAttributes>
    {
        internal static readonly ProdOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Prod";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
            => new(a.OutputShape(this, inputs), inputs[0].DType.IsFloatingPoint() ? inputs[0].DType : DType.Int64);

        public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
            => ReduceDispatch.ReduceWidening<Operator<float>, Operator<double>, Operator<long>>(inputs[0], a, output);

        /// <summary>
        /// d prod / d x_i = the product of the other elements of x_i's group. Where a group has no zero that
        /// is prod / x_i; where it has exactly one zero, only the zero's position gets a gradient (the
        /// product of the rest); with two or more zeros every gradient is 0. The result is written with
        /// ops, so it is differentiable again; that second derivative is exact for groups without zeros.
        /// </summary>
        public override Tensor?[] Backward(BackwardContext c, ReduceAttributes a)
        {
            var x = c.Input(0);
            var kept = a.Kept;
            var nonZero = ReduceBackward.NotZero(x);
            var isZero = ReduceBackward.OneMinus(nonZero);
            Tensor zeros, noZero, oneZero;
            using (Engine.NoGrad())
            {
                zeros = Dispatcher.Call(SumOp.Instance, kept, isZero);
                noZero = ReduceBackward.OneMinus(ReduceBackward.NotZero(zeros));
                oneZero = ReduceBackward.OneMinus(ReduceBackward.NotZero(zeros + -1.0));
            }
            // The zeros replaced by constant ones: its product is the product of the nonzero elements.
            var x1 = x * nonZero + isZero;
            var p1 = Dispatcher.Call(Instance, kept, x1);
            var others = p1 * noZero * x1.Reciprocal() + isZero * (p1 * oneZero);
            return [a.KeepDims(c.Grad, x.Shape) * others];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
            => a.ReferenceReduce(this, inputs[0], values => { double p = 1; foreach (var v in values) p *= v; return p; });

        public override IEnumerable<OpSample> Samples() =>
        [
            .. ReduceAttributes.StandardSamples(0.5, 1.5),
            new("mixed signs", () => [OpSample.Uniform(81, -2, 2, 3, 4)], new ReduceAttributes(new IntList(1), false)),
            new("zeros", () => [Tensor.From<double>([2, 0, 3, 0, 0, 5, 1.5, -2, 4, 0, 0, 0], 4, 3)], new ReduceAttributes(new IntList(1), false)),
            new("zeros over dim 0", () => [Tensor.From<double>([2, 0, 3, 0, 0, 5, 1.5, -2, 4], 3, 3)], new ReduceAttributes(new IntList(0), true)),
            new("empty dimension", () => [OpSample.Uniform(82, -2, 2, 0, 3)], new ReduceAttributes(new IntList(0), false)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() => ReduceAttributes.StandardInvalidSamples();

        internal readonly struct Operator<T> : IReduceOperator<T> where T : unmanaged, INumber<T>
        {
            public static T Identity => T.One;
            public static T Combine(T a, T b) => a * b;
            public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => TensorPrimitives.Multiply(accumulator, x, accumulator);
            public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch) => TensorPrimitives.Product(x);
            public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination) => x.CopyTo(destination);
            public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch)
                => TensorPrimitives.Multiply(accumulator, x, accumulator);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Product of all elements (a 0-d tensor). Integer and bool tensors give int64.</summary>
        public Tensor Prod() => Dispatcher.Call(ProdOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>Product over <paramref name="dims"/>; with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Prod(int[] dims, bool keepDim = false) => Dispatcher.Call(ProdOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>Product over one dimension (negative counts from the end).</summary>
        public Tensor Prod(int dim, bool keepDim = false) => Prod([dim], keepDim);
    }
}
