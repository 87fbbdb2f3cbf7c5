using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>Elementwise min(a, b) with broadcasting; NaN wins, as in PyTorch.</summary>
    internal sealed class MinimumOp : ExtremumElementwiseOp<Smallest>
    {
        internal static readonly MinimumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Minimum";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise minimum with broadcasting (NaN propagates); dtypes are promoted as in PyTorch.</summary>
        public Tensor Minimum(Tensor other) => Dispatcher.Call(MinimumOp.Instance, NoAttributes.Instance, Promote(this, other, out var b), b);
    }
}
