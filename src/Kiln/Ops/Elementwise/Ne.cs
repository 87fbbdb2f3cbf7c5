using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a != b with broadcasting, as a bool tensor.</summary>
    internal sealed class NeOp : ComparisonOp<NotEqualPredicate>
    {
        internal static readonly NeOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Ne";

        internal override double Scalar(double a, double b) => a != b ? 1 : 0;
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A bool tensor, true where this tensor is not equal to <paramref name="other"/> (NaN is unequal to everything).
        /// Broadcasts; dtypes are promoted as in PyTorch. Not differentiable.
        /// </summary>
        public Tensor Ne(Tensor other) => Dispatcher.Call(NeOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>A bool tensor, true where this tensor is not equal to <paramref name="value"/> (NaN is unequal to everything).</summary>
        public Tensor Ne(double value) => Ne(ScalarOperand(value, DType));
    }
}
