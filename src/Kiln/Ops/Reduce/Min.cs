using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// The smallest value over some dimensions (all when none are given), as PyTorch's amin: NaN wins.
    /// The gradient goes to the positions holding the result, split equally among ties.
    /// </summary>
    internal sealed class MinOp : ExtremumReduceOp<Smallest>
    {
        internal static readonly MinOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Min";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The smallest element (a 0-d tensor); NaN if any element is NaN.</summary>
        public Tensor Min() => Dispatcher.Call(MinOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>The smallest values over <paramref name="dims"/> (PyTorch's amin); with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Min(int[] dims, bool keepDim = false) => Dispatcher.Call(MinOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>The smallest values along one dimension (negative counts from the end); see <see cref="ArgMin(int, bool)"/> for their positions.</summary>
        public Tensor Min(int dim, bool keepDim = false) => Min([dim], keepDim);
    }
}
