using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>The logistic function 1 / (1 + e^-x), elementwise.</summary>
    internal sealed class SigmoidOp : UnaryElementwiseOp
    {
        internal static readonly SigmoidOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sigmoid";
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;
        protected override (double Low, double High) SampleRange => (-5, 5);

        internal override double Scalar(double x) => 1 / (1 + Math.Exp(-x));

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * c.Output * (1 - c.Output)];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, IExponentialFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Sigmoid(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The logistic sigmoid 1 / (1 + e^-x) of each element (integer tensors give float32).</summary>
        public Tensor Sigmoid() => Dispatcher.Call(SigmoidOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
