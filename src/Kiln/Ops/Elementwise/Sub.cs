using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a - b with broadcasting.</summary>
    internal sealed class SubOp : BinaryElementwiseOp
    {
        internal static readonly SubOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sub";
        public override bool BackwardReadsInputs => false;

        internal override double Scalar(double a, double b) => a - b;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) =>
        [
            c.NeedsGrad(0) ? c.Grad.SumTo(c.Input(0).Shape) : null,
            c.NeedsGrad(1) ? c.Grad.Neg().SumTo(c.Input(1).Shape) : null,
        ];

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise difference with broadcasting; dtypes are promoted as in PyTorch.</summary>
        public Tensor Sub(Tensor other) => Dispatcher.Call(SubOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>Subtracts <paramref name="other"/> from this tensor in place.</summary>
        public Tensor SubInPlace(Tensor other) => Dispatcher.CallInPlace(SubOp.Instance, NoAttributes.Instance, this, this, other.To(DType));

        /// <summary>Subtracts <paramref name="value"/> from every element in place.</summary>
        public Tensor SubInPlace(double value) => SubInPlace(Scalar(value, DType));

        public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
        public static Tensor operator -(Tensor a, double b) => a.Sub(ScalarOperand(b, a.DType));
        public static Tensor operator -(double a, Tensor b) => ScalarOperand(a, b.DType).Sub(b);
    }
}
