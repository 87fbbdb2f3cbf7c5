using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Hyperbolic tangent, elementwise.</summary>
    internal sealed class TanhOp : UnaryElementwiseOp
    {
        internal static readonly TanhOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Tanh";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        internal override double Scalar(double x) => Math.Tanh(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * (1 - c.Output * c.Output)];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, IHyperbolicFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Tanh(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The hyperbolic tangent of each element (integer tensors give float32).</summary>
        public Tensor Tanh() => Dispatcher.Call(TanhOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
