using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Elementwise max(a, b) with broadcasting; NaN wins, as in PyTorch.</summary>
    internal sealed class MaximumOp : BinaryElementwiseOp
    {
        internal static readonly MaximumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Maximum";

        internal override double Scalar(double a, double b) => Math.Max(a, b);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

        // The gradient goes to the larger input; ties split it half and half (PyTorch's rule).
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (x, y) = (c.Input(0), c.Input(1));
            var dtype = c.Grad.DType;
            var tie = x.Eq(y).To(dtype) * 0.5;
            return
            [
                c.NeedsGrad(0) ? (c.Grad * (x.Gt(y).To(dtype) + tie)).SumTo(x.Shape) : null,
                c.NeedsGrad(1) ? (c.Grad * (x.Lt(y).To(dtype) + tie)).SumTo(y.Shape) : null,
            ];
        }

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Max(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Max(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Max(y, x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise maximum with broadcasting (NaN propagates); dtypes are promoted as in PyTorch.</summary>
        public Tensor Maximum(Tensor other) => Dispatcher.Call(MaximumOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);
    }
}
