using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>-x, elementwise.</summary>
    internal sealed class NegOp : UnaryElementwiseOp
    {
        internal static readonly NegOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Neg";
        protected override bool AcceptsIntegers => true;
        public override bool BackwardReadsInputs => false;

        internal override double Scalar(double x) => -x;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad.Neg()];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, INumber<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Negate(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The negation of each element.</summary>
        public Tensor Neg() => Dispatcher.Call(NegOp.Instance, NoAttributes.Instance, this);

        /// <summary>Negates every element in place.</summary>
        public Tensor NegInPlace() => Dispatcher.CallInPlace(NegOp.Instance, NoAttributes.Instance, this, this);

        public static Tensor operator -(Tensor x) => x.Neg();
    }
}
