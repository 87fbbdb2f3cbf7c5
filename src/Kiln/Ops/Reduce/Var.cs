using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Variance over some dimensions: sum((x - mean)²) / max(0, n - correction), in two passes over the
    /// data (the mean, then the squared deviations), which stays accurate for values far from 0.
    /// </summary>
    internal sealed class VarOp : OpDef<VarianceAttributes>
    {
        internal static readonly VarOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Var";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, VarianceAttributes a) => a.Infer(this, inputs);

        public override void Forward(ReadOnlySpan<Tensor> inputs, VarianceAttributes a, Tensor output) => Compute(inputs[0], a, output, sqrt: false);

        /// <summary>The variance (or, with <paramref name="sqrt"/>, the standard deviation) of x into output.</summary>
        internal static void Compute(Tensor x, VarianceAttributes a, Tensor output, bool sqrt)
        {
            var r = a.Reduce;
            using var mean = Tensor.Empty(output.ShapeArray, output.DType);
            ReduceDispatch.Reduce<SumOp.Operator<float>, SumOp.Operator<double>>(x, r, mean);
            ReduceDispatch.Divide(mean, r.Count(x.Shape));
            ReduceDispatch.Reduce<SquaredDeviation<float>, SquaredDeviation<double>>(x, r, output, mean);
            ReduceDispatch.Divide(output, a.Divisor(x.Shape));
            if (sqrt) ReduceDispatch.Sqrt(output);
        }

        /// <summary>x minus its mean over the reduced dimensions, broadcast (differentiable).</summary>
        internal static Tensor Deviation(Tensor x, ReduceAttributes r)
            => ReduceBackward.Minus(x, Dispatcher.Call(SumOp.Instance, r.Kept, x) * (1.0 / r.Count(x.Shape)));

        // d var / d x_i = 2 (x_i - mean) / divisor (the mean's own dependence on x sums to zero).
        public override Tensor?[] Backward(BackwardContext c, VarianceAttributes a)
        {
            var x = c.Input(0);
            return [a.Reduce.KeepDims(c.Grad, x.Shape) * Deviation(x, a.Reduce) * (2.0 / a.Divisor(x.Shape))];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, VarianceAttributes a) => a.Reference(this, inputs[0], sqrt: false);

        public override IEnumerable<OpSample> Samples() => VarianceAttributes.Samples();

        public override IEnumerable<OpInvalidSample> InvalidSamples() => VarianceAttributes.InvalidSamples();

        /// <summary>Sums (x - shift)², shift being the mean.</summary>
        internal readonly struct SquaredDeviation<T> : IReduceOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
        {
            public static T Identity => T.Zero;
            public static T Combine(T a, T b) => a + b;
            public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => TensorPrimitives.Add(accumulator, x, accumulator);

            public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch)
            {
                TensorPrimitives.Subtract(x, shift, scratch);
                return TensorPrimitives.SumOfSquares<T>(scratch);
            }

            public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination)
            {
                TensorPrimitives.Subtract(x, shift, destination);
                TensorPrimitives.Multiply(destination, destination, destination);
            }

            public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch)
            {
                TensorPrimitives.Subtract(x, shift, scratch);
                TensorPrimitives.FusedMultiplyAdd(scratch, scratch, accumulator, accumulator);
            }
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Variance over <paramref name="dims"/> (null: all): sum((x - mean)²) / max(0, n - <paramref name="correction"/>);
        /// correction 1 (the default) is the unbiased estimate, 0 the population variance.
        /// </summary>
        public Tensor Var(int[]? dims = null, double correction = 1, bool keepDim = false)
            => Dispatcher.Call(VarOp.Instance, VarianceAttributes.Create(dims, Rank, correction, keepDim), this);

        /// <summary>Variance along one dimension (negative counts from the end); see <see cref="Var(int[], double, bool)"/>.</summary>
        public Tensor Var(int dim, double correction = 1, bool keepDim = false) => Var([dim], correction, keepDim);
    }
}
