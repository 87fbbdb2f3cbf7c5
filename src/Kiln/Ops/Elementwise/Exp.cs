using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>e^x, elementwise.</summary>
    internal sealed class ExpOp : UnaryElementwiseOp
    {
        internal static readonly ExpOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Exp";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        internal override double Scalar(double x) => Math.Exp(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * c.Output];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, System.Numerics.IExponentialFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Exp(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>e raised to each element.</summary>
        public Tensor Exp() => Dispatcher.Call(ExpOp.Instance, NoAttributes.Instance, this);

        /// <summary>Replaces each element by e raised to it, in place.</summary>
        public Tensor ExpInPlace() => Dispatcher.CallInPlace(ExpOp.Instance, NoAttributes.Instance, this, this);
    }
}
