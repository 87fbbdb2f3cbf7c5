using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a == b with broadcasting, as a bool tensor.</summary>
    internal sealed class EqOp : ComparisonOp<EqualPredicate>
    {
        internal static readonly EqOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Eq";

        internal override double Scalar(double a, double b) => a == b ? 1 : 0;
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A bool tensor, true where this tensor is equal to <paramref name="other"/> (NaN is unequal to everything).
        /// Broadcasts; dtypes are promoted as in PyTorch. Not differentiable.
        /// </summary>
        public Tensor Eq(Tensor other) => Dispatcher.Call(EqOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>A bool tensor, true where this tensor is equal to <paramref name="value"/> (NaN is unequal to everything).</summary>
        public Tensor Eq(double value) => Eq(ScalarOperand(value, DType));
    }
}
