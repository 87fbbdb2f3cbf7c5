using System.Runtime.CompilerServices;
using Kiln.Ops;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// A view picked by C# indices, as NumPy and PyTorch basic indexing: <c>x[0]</c> and <c>x[^1]</c> select
    /// (and drop) a dimension, <c>x[1..3]</c> and <c>x[.., 1..3]</c> keep part of one,
    /// <see cref="TensorIndex.Slice"/> adds a step, <see cref="TensorIndex.Ellipsis"/> and
    /// <see cref="TensorIndex.NewAxis"/> work as Python's <c>...</c> and <c>None</c>. Dimensions not named
    /// are kept whole.
    /// Setting copies the value (broadcast, converted to this dtype) into that part of this tensor.
    /// </summary>
    [IndexerName("At")]
    public Tensor this[params TensorIndex[] indices]
    {
        get => IndexView(indices);
        set => IndexPut(indices, value);
    }

    private Tensor IndexView(TensorIndex[] indices)
    {
        int named = 0, ellipses = 0;
        foreach (var entry in indices)
        {
            if (entry.Kind is TensorIndex.IndexKind.Single or TensorIndex.IndexKind.Range) named++;
            else if (entry.Kind == TensorIndex.IndexKind.Ellipsis) ellipses++;
        }
        if (ellipses > 1) throw new KilnShapeException($"index [{string.Join(", ", indices)}] has more than one ellipsis");
        if (named > Rank)
            throw new KilnShapeException($"index [{string.Join(", ", indices)}] names {named} dimensions, but the tensor has shape {Shape}");

        var result = this;
        int dim = 0;
        foreach (var entry in indices)
        {
            switch (entry.Kind)
            {
                case TensorIndex.IndexKind.Single:
                    int size = result.ShapeArray[dim];
                    int position = entry.Position.IsFromEnd ? size - entry.Position.Value : entry.Position.Value;
                    if (position < 0 || position >= size)
                        throw new KilnShapeException($"index {entry} is out of range for dimension {dim} of size {size} (shape {result.Shape}, index [{string.Join(", ", indices)}])");
                    result = result.Select(dim, position);
                    break;
                case TensorIndex.IndexKind.Range:
                    result = result.Slice(dim, entry.Start, entry.End, entry.Step);
                    dim++;
                    break;
                case TensorIndex.IndexKind.Ellipsis:
                    dim += Rank - named;
                    break;
                case TensorIndex.IndexKind.NewAxis:
                    result = result.Unsqueeze(dim);
                    dim++;
                    break;
            }
        }
        // A plain copy of the handle would let disposing the "view" dispose this tensor.
        if (!ReferenceEquals(result, this)) return result;
        var identity = new int[Rank];
        for (int i = 0; i < identity.Length; i++) identity[i] = i;
        return Dispatcher.Call(PermuteOp.Instance, new PermuteOp.Attributes(new IntList(identity)), this);
    }

    private void IndexPut(TensorIndex[] indices, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        TraceRecorder.Current?.WritingUntracked(this, "index assignment");
        if (GradMode.IsEnabled && (RequiresGrad || value.RequiresGrad))
            throw new KilnAutogradException(
                $"assignment through an index into a tensor of shape {Shape} is not tracked by autograd; do it inside Engine.NoGrad(), or build the tensor with Cat or Stack");
        using var target = IndexView(indices);
        for (int i = 0; i < target.Rank; i++)
            if (target.StridesArray[i] == 0 && target.ShapeArray[i] > 1)
                throw new KilnShapeException($"cannot assign to index [{string.Join(", ", indices)}] of a broadcast tensor (shape {Shape}): several elements share one memory location; Clone() it first");
        if (Shape.Broadcast(value.ShapeArray, target.ShapeArray) is not { } shape || Shape.Wrap(shape) != target.Shape)
            throw new KilnShapeException($"cannot assign a tensor of shape {value.Shape} to index [{string.Join(", ", indices)}] of shape {target.Shape}");
        var source = value.To(DType);
        // The value may overlap the target (x[1..] = x[..^1]); read it out first so no element is overwritten before it is read.
        bool overlaps = source.SharesStorageWith(this);
        if (overlaps) source = source.Clone();
        var expanded = source.Expand(target.ShapeArray);
        Dispatcher.CopyInto(expanded, target);
        BumpVersion();
        if (!ReferenceEquals(expanded, source)) expanded.Dispose();
        if (overlaps || !ReferenceEquals(source, value)) source.Dispose();
    }
}
