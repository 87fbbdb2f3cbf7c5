using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>
/// The attribute of the index ops (Gather, ScatterAdd, IndexSelect, IndexAdd): the dimension the index
/// values select along. Also the checks and reference helpers those ops share.
/// </summary>
internal sealed record IndexAttributes(int Dim) : OpAttributes
{
    /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
    internal override void Write(AttributeWriter writer) => writer.Int32(Dim);

    internal static IndexAttributes Read(AttributeReader reader) => new(reader.Int32("dim"));

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<IndexAttributes>.Reader = Read;

    /// <summary>Attributes for a user's dimension: normalized when in range, else kept so inference reports it.</summary>
    internal static IndexAttributes For(int dim, int rank)
    {
        int r = Math.Max(rank, 1);
        return new IndexAttributes(dim < 0 && dim >= -r ? dim + r : dim);
    }

    /// <summary>The dimension in [0, max(rank, 1)), or an error naming the op.</summary>
    internal int Resolve(OpDef op, ReadOnlySpan<TensorSpec> inputs, int rank)
    {
        int r = Math.Max(rank, 1);
        int d = Dim < 0 ? Dim + r : Dim;
        if (d < 0 || d >= r) throw op.Error($"dimension {Dim} is out of range for a tensor of rank {rank}", inputs);
        return d;
    }

    internal static void RequireInt64Index(OpDef op, ReadOnlySpan<TensorSpec> inputs, int which)
    {
        if (inputs[which].DType != DType.Int64)
            throw op.Error($"index must be int64, got {inputs[which].DType.Name()}", inputs);
    }

    internal static void RequireNumeric(OpDef op, ReadOnlySpan<TensorSpec> inputs)
    {
        if (inputs[0].DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
            throw op.Error($"expects a float32, float64, int32 or int64 input, got {inputs[0].DType.Name()}", inputs);
    }

    /// <summary>The error for an index value outside [0, size): names the op, the value, the dimension and its size.</summary>
    internal static ArgumentOutOfRangeException OutOfBounds(OpDef op, long index, int dim, int size)
        => new("index", $"{op.Name}: index {index} is out of bounds for dimension {dim} with size {size}");

    /// <summary>Shape and strides as the kernels take them: a 0-d tensor is seen as one element of rank 1.</summary>
    internal static (int[] Shape, int[] Strides) AtLeast1D(Tensor t)
        => t.Rank == 0 ? ([1], [0]) : (t.ShapeArray, t.StridesArray);

    /// <summary>Sizes of the dimensions before, at and after <paramref name="dim"/> of a tensor of rank >= 1.</summary>
    internal static (int Outer, int Size, int Inner) Split(int[] shape, int dim)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= shape[d];
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[dim], inner);
    }

    /// <summary>A contiguous tensor with the values of <paramref name="t"/> (itself when already contiguous), made without autograd.</summary>
    internal static Tensor Dense(Tensor t)
    {
        if (t.IsContiguous) return t;
        var copy = Tensor.Empty(t.ShapeArray, t.DType);
        Dispatcher.CopyInto(t, copy);
        return copy;
    }

    /// <summary>The row-major coordinates of element <paramref name="flat"/> (for the plain-loop references).</summary>
    internal static int[] Unravel(long flat, int[] shape)
    {
        var position = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            position[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
        return position;
    }

    /// <summary>The row-major element number of <paramref name="position"/> in <paramref name="shape"/>.</summary>
    internal static long Ravel(int[] position, int[] shape)
    {
        long flat = 0;
        for (int d = 0; d < shape.Length; d++) flat = flat * shape[d] + position[d];
        return flat;
    }
}
