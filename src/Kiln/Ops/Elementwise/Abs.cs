using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>|x|, elementwise.</summary>
    internal sealed class AbsOp : UnaryElementwiseOp
    {
        internal static readonly AbsOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Abs";
        protected override bool AcceptsIntegers => true;

        internal override double Scalar(double x) => Math.Abs(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], output);

        // The gradient is sign(x), 0 at 0 as in PyTorch.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var x = c.Input(0);
            return [c.Grad * (x.Gt(0).To(c.Grad.DType) - x.Lt(0).To(c.Grad.DType))];
        }

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, INumberBase<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Abs(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The absolute value of each element.</summary>
        public Tensor Abs() => Dispatcher.Call(AbsOp.Instance, NoAttributes.Instance, this);
    }
}
