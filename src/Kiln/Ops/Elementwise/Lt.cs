using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a &lt; b with broadcasting, as a bool tensor.</summary>
    internal sealed class LtOp : ComparisonOp<LessThanPredicate>
    {
        internal static readonly LtOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Lt";

        internal override double Scalar(double a, double b) => a < b ? 1 : 0;
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A bool tensor, true where this tensor is less than <paramref name="other"/> (false where either is NaN).
        /// Broadcasts; dtypes are promoted as in PyTorch. Not differentiable.
        /// </summary>
        public Tensor Lt(Tensor other) => Dispatcher.Call(LtOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>A bool tensor, true where this tensor is less than <paramref name="value"/> (false where either is NaN).</summary>
        public Tensor Lt(double value) => Lt(ScalarOperand(value, DType));
    }
}
