using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Cosine, elementwise.</summary>
    internal sealed class CosOp : UnaryElementwiseOp
    {
        internal static readonly CosOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Cos";

        internal override double Scalar(double x) => Math.Cos(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Unary<Operator<float>, Operator<double>>(inputs[0], output);

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [(c.Grad * c.Input(0).Sin()).Neg()];

        internal readonly struct Operator<T> : IUnarySpanOperator<T, T> where T : unmanaged, ITrigonometricFunctions<T>
        {
            public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Cos(x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The cosine of each element, in radians (integer tensors give float32).</summary>
        public Tensor Cos() => Dispatcher.Call(CosOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
