using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a * b with broadcasting.</summary>
    internal sealed class MulOp : BinaryElementwiseOp
    {
        internal static readonly MulOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Mul";

        internal override double Scalar(double a, double b) => a * b;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) =>
        [
            c.NeedsGrad(0) ? (c.Grad * c.Input(1)).SumTo(c.Input(0).Shape) : null,
            c.NeedsGrad(1) ? (c.Grad * c.Input(0)).SumTo(c.Input(1).Shape) : null,
        ];

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(y, x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise product with broadcasting; dtypes are promoted as in PyTorch.</summary>
        public Tensor Mul(Tensor other) => Dispatcher.Call(MulOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>Multiplies this tensor by <paramref name="other"/> in place.</summary>
        public Tensor MulInPlace(Tensor other) => Dispatcher.CallInPlace(MulOp.Instance, NoAttributes.Instance, this, this, other.To(DType));

        /// <summary>Multiplies every element by <paramref name="value"/> in place.</summary>
        public Tensor MulInPlace(double value) => MulInPlace(Scalar(value, DType));

        public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
        public static Tensor operator *(Tensor a, double b) => a.Mul(ScalarOperand(b, a.DType));
        public static Tensor operator *(double a, Tensor b) => ScalarOperand(a, b.DType).Mul(b);
    }
}
