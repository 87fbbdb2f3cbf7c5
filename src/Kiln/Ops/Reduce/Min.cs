using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The smallest value over some dimensions (all when none are given), as PyTorch's amin: NaN wins.
    /// The gradient goes to the positions holding the result, split equally among ties.
    /// </summary>
    internal sealed class MinOp : OpDef<ReduceAttributes>
    {
        internal static readonly MinOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Min";
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
                    if (double.IsNaN(v) || v < best) best = double.IsNaN(best) ? best : v;
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
            public static T Identity => T.CreateSaturating(double.PositiveInfinity);
            public static T Combine(T a, T b) => T.Min(a, b);
            public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => TensorPrimitives.Min(accumulator, x, accumulator);
            public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch) => TensorPrimitives.Min(x);
            public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination) => x.CopyTo(destination);
            public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch)
                => TensorPrimitives.Min(accumulator, x, accumulator);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The smallest element (a 0-d tensor); NaN if any element is NaN.</summary>
        public Tensor Min() => Dispatcher.Call(MinOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>The smallest values over <paramref name="dims"/> (PyTorch's amin); with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Min(int[] dims, bool keepDim = false) => Dispatcher.Call(MinOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>The smallest values along one dimension (negative counts from the end); see <see cref="ArgMin(int, bool)"/> for their positions.</summary>
        public Tensor Min(int dim, bool keepDim = false) => Min([dim], keepDim);
    }
}
