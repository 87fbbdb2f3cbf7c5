using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a ^ b with broadcasting (floating-point inputs; a scalar exponent is a 0-d tensor).</summary>
    internal sealed class PowOp : BinaryElementwiseOp
    {
        internal static readonly PowOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Pow";
        protected override bool AcceptsIntegers => false;
        protected override (double Low, double High) SampleRange => (0.5, 2.5);
        protected override (double Low, double High) SecondSampleRange => (-2, 2);

        internal override double Scalar(double a, double b) => Math.Pow(a, b);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<Operator<float>, Operator<double>>(inputs[0], inputs[1], output);

        // d/da = b a^(b-1) (0 where b = 0, as PyTorch, so 0^0 gives no NaN);
        // d/db = a^b ln a (0 where a = 0 and b >= 0; NaN for negative bases, as PyTorch).
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (x, e) = (c.Input(0), c.Input(1));
            Tensor? gx = null, ge = null;
            if (c.NeedsGrad(0))
                gx = Tensor.Where(e.Eq(0), 0.0, c.Grad * e * x.Pow(e - 1)).SumTo(x.Shape);
            if (c.NeedsGrad(1))
                ge = Tensor.Where(x.Eq(0).LogicalAnd(e.Ge(0)), 0.0, c.Grad * x.Pow(e) * x.Log()).SumTo(e.Shape);
            return [gx, ge];
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            .. base.Samples(),
            new("negative base, integer exponent", () => [OpSample.Uniform(31, -3, -0.5, 4, 5), Tensor.Scalar(3, DType.Float64)], NoAttributes.Instance)
            {
                GradInputs = [0],
            },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            .. base.InvalidSamples(),
            new("integer inputs", [new TensorSpec(new Shape(2), DType.Int64), new TensorSpec(new Shape(2), DType.Int64)], NoAttributes.Instance),
        ];

        internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, IPowerFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
            public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
            public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Each element raised to the matching element of <paramref name="exponent"/> (broadcast).
        /// Integer operands are computed in float32.
        /// </summary>
        public Tensor Pow(Tensor exponent)
        {
            var a = Promote(this, exponent, out var b);
            return Dispatcher.Call(PowOp.Instance, NoAttributes.Instance, a.AsFloatingPoint(), b.AsFloatingPoint());
        }

        /// <summary>Each element raised to <paramref name="exponent"/>. Integer tensors are computed in float32.</summary>
        public Tensor Pow(double exponent) => Pow(ScalarOperand(exponent, DType));
    }
}
