using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>a &lt;= b with broadcasting, as a bool tensor.</summary>
    internal sealed class LeOp : ComparisonOp<LessThanOrEqualPredicate>
    {
        internal static readonly LeOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Le";

        internal override double Scalar(double a, double b) => a <= b ? 1 : 0;
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A bool tensor, true where this tensor is less than or equal to <paramref name="other"/> (false where either is NaN).
        /// Broadcasts; dtypes are promoted as in PyTorch. Not differentiable.
        /// </summary>
        public Tensor Le(Tensor other) => Dispatcher.Call(LeOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);

        /// <summary>A bool tensor, true where this tensor is less than or equal to <paramref name="value"/> (false where either is NaN).</summary>
        public Tensor Le(double value) => Le(ScalarOperand(value, DType));
    }
}
