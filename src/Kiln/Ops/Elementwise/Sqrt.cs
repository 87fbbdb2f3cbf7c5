using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Square root, elementwise.</summary>
    internal sealed class SqrtOp : UnaryElementwiseOp
    {
        internal static readonly SqrtOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sqrt";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;
        protected override (double Low, double High) SampleRange => (0.1, 3);

        internal override double Scalar(double x) => Math.Sqrt(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad / (c.Output * 2)];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, IRootFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Sqrt(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The square root of each element (integer tensors give float32).</summary>
        public Tensor Sqrt() => Dispatcher.Call(SqrtOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
