using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// The position (int64) of the largest value along one dimension, or in the flattened tensor when no
    /// dimension is given. Ties give the first position; NaN counts as largest. Not differentiable.
    /// </summary>
    internal sealed class ArgMaxOp : ArgExtremumReduceOp<Largest>
    {
        internal static readonly ArgMaxOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "ArgMax";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The position of the largest element in the flattened tensor (a 0-d int64 tensor); the first one on ties.</summary>
        public Tensor ArgMax() => Dispatcher.Call(ArgMaxOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>The positions (int64) of the largest values along <paramref name="dim"/>; the first one on ties.</summary>
        public Tensor ArgMax(int dim, bool keepDim = false) => Dispatcher.Call(ArgMaxOp.Instance, ReduceAttributes.Create([dim], Rank, keepDim), this);
    }
}
