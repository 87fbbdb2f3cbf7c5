using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>1 / sqrt(x), elementwise.</summary>
    internal sealed class RsqrtOp : UnaryElementwiseOp
    {
        internal static readonly RsqrtOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Rsqrt";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;
        protected override (double Low, double High) SampleRange => (0.2, 3);

        internal override double Scalar(double x) => 1 / Math.Sqrt(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        // d/dx x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * c.Output * c.Output * c.Output * -0.5];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, IFloatingPointIeee754<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.ReciprocalSqrt(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The reciprocal of the square root of each element (integer tensors give float32).</summary>
        public Tensor Rsqrt() => Dispatcher.Call(RsqrtOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
