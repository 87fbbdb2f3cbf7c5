using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// The largest value over some dimensions (all when none are given), as PyTorch's amax: NaN wins.
    /// The gradient goes to the positions holding the result, split equally among ties.
    /// </summary>
    internal sealed class MaxOp : ExtremumReduceOp<Largest>
    {
        internal static readonly MaxOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Max";
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The largest element (a 0-d tensor); NaN if any element is NaN.</summary>
        public Tensor Max() => Dispatcher.Call(MaxOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>The largest values over <paramref name="dims"/> (PyTorch's amax); with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Max(int[] dims, bool keepDim = false) => Dispatcher.Call(MaxOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>The largest values along one dimension (negative counts from the end); see <see cref="ArgMax(int, bool)"/> for their positions.</summary>
        public Tensor Max(int dim, bool keepDim = false) => Max([dim], keepDim);
    }
}
