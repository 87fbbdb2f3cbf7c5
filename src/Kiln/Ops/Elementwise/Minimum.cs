using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Elementwise min(a, b) with broadcasting; NaN wins, as in PyTorch.</summary>
    internal sealed class MinimumOp : BinaryElementwiseOp
    {
        internal static readonly MinimumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Minimum";

        internal override double Scalar(double a, double b) => Math.Min(a, b);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

        // The gradient goes to the smaller input; ties split it half and half (PyTorch's rule).
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (x, y) = (c.Input(0), c.Input(1));
            var dtype = c.Grad.DType;
            var tie = x.Eq(y).To(dtype) * 0.5;
            return
            [
                c.NeedsGrad(0) ? (c.Grad * (x.Lt(y).To(dtype) + tie)).SumTo(x.Shape) : null,
                c.NeedsGrad(1) ? (c.Grad * (x.Gt(y).To(dtype) + tie)).SumTo(y.Shape) : null,
            ];
        }

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Min(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Min(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Min(y, x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise minimum with broadcasting (NaN propagates); dtypes are promoted as in PyTorch.</summary>
        public Tensor Minimum(Tensor other) => Dispatcher.Call(MinimumOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);
    }
}
