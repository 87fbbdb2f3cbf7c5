using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// The position (int64) of the smallest value along one dimension, or in the flattened tensor when no
    /// dimension is given. Ties give the first position; NaN counts as smallest. Not differentiable.
    /// </summary>
    internal sealed class ArgMinOp : ArgExtremumReduceOp<Smallest>
    {
        internal static readonly ArgMinOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "ArgMin";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The position of the smallest element in the flattened tensor (a 0-d int64 tensor); the first one on ties.</summary>
        public Tensor ArgMin() => Dispatcher.Call(ArgMinOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>The positions (int64) of the smallest values along <paramref name="dim"/>; the first one on ties.</summary>
        public Tensor ArgMin(int dim, bool keepDim = false) => Dispatcher.Call(ArgMinOp.Instance, ReduceAttributes.Create([dim], Rank, keepDim), this);
    }
}
