using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>1 / x, elementwise.</summary>
    internal sealed class ReciprocalOp : UnaryElementwiseOp
    {
        internal static readonly ReciprocalOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Reciprocal";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        internal override double Scalar(double x) => 1 / x;

        // Away from 0, where the op and its derivative blow up.
        protected override (double Low, double High) SampleRange => (0.5, 3);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        // d(1/x)/dx = -1/x² = -y².
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * (c.Output * c.Output) * -1.0];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Reciprocal(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>1 / x for each element.</summary>
        public Tensor Reciprocal() => Dispatcher.Call(ReciprocalOp.Instance, NoAttributes.Instance, this);
    }
}
