using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Natural logarithm, elementwise.</summary>
    internal sealed class LogOp : UnaryElementwiseOp
    {
        internal static readonly LogOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Log";
        protected override (double Low, double High) SampleRange => (0.1, 3);

        internal override double Scalar(double x) => Math.Log(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad / c.Input(0)];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, ILogarithmicFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Log(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The natural logarithm of each element (integer tensors give float32).</summary>
        public Tensor Log() => Dispatcher.Call(LogOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
