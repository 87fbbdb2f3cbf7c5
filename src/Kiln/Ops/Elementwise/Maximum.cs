using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>Elementwise max(a, b) with broadcasting; NaN wins, as in PyTorch.</summary>
    internal sealed class MaximumOp : ExtremumElementwiseOp<Largest>
    {
        internal static readonly MaximumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Maximum";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise maximum with broadcasting (NaN propagates); dtypes are promoted as in PyTorch.</summary>
        public Tensor Maximum(Tensor other) => Dispatcher.Call(MaximumOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);
    }
}
