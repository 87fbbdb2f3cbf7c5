using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Sum over some dimensions (all when none are given), optionally keeping them as size 1. Integer and
    /// bool inputs sum to int64, as in PyTorch.
    /// </summary>
    internal sealed class SumOp : OpDef<ReduceAttributes>
    {
        internal static readonly SumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sum";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
            => new(a.OutputShape(this, inputs), inputs[0].DType.IsFloatingPoint() ? inputs[0].DType : DType.Int64);

        public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
            => ReduceDispatch.ReduceWidening<Operator<float>, Operator<double>, Operator<long>>(inputs[0], a, output);

        public override Tensor?[] Backward(BackwardContext c, ReduceAttributes a)
            => [a.Unreduce(c.Grad, c.Input(0).Shape)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
            => a.ReferenceReduce(this, inputs[0], values => { double s = 0; foreach (var v in values) s += v; return s; });

        public override IEnumerable<OpSample> Samples() =>
        [
            .. ReduceAttributes.StandardSamples(-2, 2),
            new("empty dimension", () => [OpSample.Uniform(39, -2, 2, 0, 3)], new ReduceAttributes(new IntList(0), false)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() => ReduceAttributes.StandardInvalidSamples();

        internal readonly struct Operator<T> : IReduceOperator<T> where T : unmanaged, INumber<T>
        {
            public static T Identity => T.Zero;
            public static T Combine(T a, T b) => a + b;
            public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => TensorPrimitives.Add(accumulator, x, accumulator);
            public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch) => ReduceKernel.Sum(x);
            public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination) => x.CopyTo(destination);
            public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch)
                => TensorPrimitives.Add(accumulator, x, accumulator);
        }

    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Sum of all elements (a 0-d tensor). Integer and bool tensors sum to int64.</summary>
        public Tensor Sum() => Dispatcher.Call(SumOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>Sum over <paramref name="dims"/>; with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Sum(int[] dims, bool keepDim = false) => Dispatcher.Call(SumOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>Sum over one dimension (negative counts from the end).</summary>
        public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

        /// <summary>Sums broadcast dimensions away so the result has <paramref name="shape"/> (the gradient of a broadcast).</summary>
        internal Tensor SumTo(Shape shape)
        {
            if (Shape == shape) return this;
            int lead = Rank - shape.Rank;
            var axes = new List<int>();
            for (int i = 0; i < Rank; i++)
                if (i < lead || (shape[i - lead] == 1 && ShapeArray[i] != 1)) axes.Add(i);
            var summed = axes.Count == 0 ? this : Sum(axes.ToArray(), keepDim: true);
            return summed.Reshape(shape.ToArray());
        }
    }
}
