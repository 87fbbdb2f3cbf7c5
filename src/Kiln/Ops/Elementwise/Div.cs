using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a / b with broadcasting (true division: floating-point inputs only).</summary>
    internal sealed class DivOp : BinaryElementwiseOp
    {
        internal static readonly DivOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Div";
        protected override bool AcceptsIntegers => false;
        protected override (double Low, double High) SecondSampleRange => (0.5, 3);

        internal override double Scalar(double a, double b) => a / b;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>>(inputs[0], inputs[1], output);

        // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (x, y) = (c.Input(0), c.Input(1));
            return
            [
                c.NeedsGrad(0) ? (c.Grad / y).SumTo(x.Shape) : null,
                c.NeedsGrad(1) ? (c.Grad * x / (y * y)).Neg().SumTo(y.Shape) : null,
            ];
        }

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Elementwise quotient with broadcasting. Always true division: integer operands give a float32
        /// result, as in PyTorch.
        /// </summary>
        public Tensor Div(Tensor other)
        {
            var a = Promote(this, other, out var b);
            return Dispatcher.Call(DivOp.Instance, NoAttributes.Instance, a.AsFloatingPoint(), b.AsFloatingPoint());
        }

        /// <summary>Divides this (floating-point) tensor by <paramref name="other"/> in place.</summary>
        public Tensor DivInPlace(Tensor other) => Dispatcher.CallInPlace(DivOp.Instance, NoAttributes.Instance, this, this, other.To(DType));

        /// <summary>Divides every element by <paramref name="value"/> in place.</summary>
        public Tensor DivInPlace(double value) => DivInPlace(Scalar(value, DType));

        public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
        public static Tensor operator /(Tensor a, double b) => a.Div(ScalarOperand(b, a.DType));
        public static Tensor operator /(double a, Tensor b) => ScalarOperand(a, b.DType).Div(b);
    }
}
