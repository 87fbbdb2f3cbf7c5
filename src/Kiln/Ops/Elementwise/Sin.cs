using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Sine, elementwise.</summary>
    internal sealed class SinOp : UnaryElementwiseOp
    {
        internal static readonly SinOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sin";

        internal override double Scalar(double x) => Math.Sin(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad * c.Input(0).Cos()];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, ITrigonometricFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Sin(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The sine of each element, in radians (integer tensors give float32).</summary>
        public Tensor Sin() => Dispatcher.Call(SinOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
