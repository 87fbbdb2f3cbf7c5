using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a + b with broadcasting.</summary>
    internal sealed class AddOp : BinaryElementwiseOp
    {
        internal static readonly AddOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Add";
        public override bool BackwardReadsInputs => false;

        internal override double Scalar(double a, double b) => a + b;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) =>
        [
            c.NeedsGrad(0) ? c.Grad.SumTo(c.Input(0).Shape) : null,
            c.NeedsGrad(1) ? c.Grad.SumTo(c.Input(1).Shape) : null,
        ];

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Add(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Add(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Add(y, x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise sum with broadcasting; dtypes are promoted as in PyTorch.</summary>
        public Tensor Add(Tensor other) => Dispatcher.Call(AddOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>Adds <paramref name="other"/> into this tensor (in place).</summary>
        public Tensor AddInPlace(Tensor other) => Dispatcher.CallInPlace(AddOp.Instance, NoAttributes.Instance, this, this, other.To(DType));

        /// <summary>Adds <paramref name="value"/> to every element in place.</summary>
        public Tensor AddInPlace(double value) => AddInPlace(Scalar(value, DType));

        public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
        public static Tensor operator +(Tensor a, double b) => a.Add(ScalarOperand(b, a.DType));
        public static Tensor operator +(double a, Tensor b) => ScalarOperand(a, b.DType).Add(b);
    }
}
