using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// log(sum(exp(x))) over some dimensions, computed as m + log(sum(exp(x - m))) with m the maximum, so
    /// large inputs do not overflow. The gradient is the softmax over the reduced dimensions.
    /// </summary>
    internal sealed class LogSumExpOp : OpDef<ReduceAttributes>
    {
        internal static readonly LogSumExpOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "LogSumExp";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;
        public override bool BackwardReadsOutput => true;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
        {
            var dtype = ReduceAttributes.RequireDType(this, inputs, integers: false);
            return new TensorSpec(a.OutputShape(this, inputs), dtype);
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
        {
            var x = inputs[0];
            using var shift = Tensor.Empty(output.ShapeArray, output.DType);
            ReduceDispatch.Reduce<MaxOp.Operator<float>, MaxOp.Operator<double>>(x, a, shift);
            ReduceDispatch.FiniteOrZero(shift);
            ReduceDispatch.Reduce<ShiftedExp<float>, ShiftedExp<double>>(x, a, output, shift);
            ReduceDispatch.LogPlus(output, shift);
        }

        // d lse / d x_i = exp(x_i - lse).
        public override Tensor?[] Backward(BackwardContext c, ReduceAttributes a)
        {
            var x = c.Input(0);
            return [a.KeepDims(c.Grad, x.Shape) * ReduceBackward.Minus(x, a.KeepDims(c.Output, x.Shape)).Exp()];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
            => a.ReferenceReduce(this, inputs[0], values =>
            {
                double max = double.NegativeInfinity;
                foreach (var v in values) max = Math.Max(max, v);
                if (double.IsInfinity(max)) max = 0;
                double sum = 0;
                foreach (var v in values) sum += Math.Exp(v - max);
                return max + Math.Log(sum);
            });

        public override IEnumerable<OpSample> Samples() =>
        [
            .. ReduceAttributes.StandardSamples(-3, 3),
            new("large values", () => [OpSample.Uniform(101, 995, 1005, 3, 7)], new ReduceAttributes(new IntList(1), false)),
            new("large negative values over dim 0", () => [OpSample.Uniform(102, -1005, -995, 6, 4)], new ReduceAttributes(new IntList(0), true)),
            new("empty dimension", () => [OpSample.Uniform(103, -2, 2, 0, 3)], new ReduceAttributes(new IntList(0), true)) { CheckGradient = false },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            .. ReduceAttributes.StandardInvalidSamples(),
            new("int32 input", [new TensorSpec(new Shape(2, 3), DType.Int32)], ReduceAttributes.All(false)),
        ];

        /// <summary>Sums exp(x - shift), shift being the maximum.</summary>
        internal readonly struct ShiftedExp<T> : IReduceOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
        {
            public static T Identity => T.Zero;
            public static T Combine(T a, T b) => a + b;
            public static void Combine(ReadOnlySpan<T> x, Span<T> accumulator) => TensorPrimitives.Add(accumulator, x, accumulator);

            public static T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch)
            {
                TensorPrimitives.Subtract(x, shift, scratch);
                TensorPrimitives.Exp<T>(scratch, scratch);
                return TensorPrimitives.Sum<T>(scratch);
            }

            public static void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination)
            {
                TensorPrimitives.Subtract(x, shift, destination);
                TensorPrimitives.Exp<T>(destination, destination);
            }

            public static void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch)
            {
                Map(x, shift, scratch);
                TensorPrimitives.Add(accumulator, scratch, accumulator);
            }
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>log(sum(exp(x))) over all elements, computed without overflow for large values.</summary>
        public Tensor LogSumExp() => Dispatcher.Call(LogSumExpOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>log(sum(exp(x))) over <paramref name="dims"/>, computed without overflow for large values.</summary>
        public Tensor LogSumExp(int[] dims, bool keepDim = false) => Dispatcher.Call(LogSumExpOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>log(sum(exp(x))) along one dimension (negative counts from the end).</summary>
        public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);
    }
}
