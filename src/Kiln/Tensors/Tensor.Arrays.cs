using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>A 2-D tensor holding a copy of <paramref name="data"/> (rows first).</summary>
    public static Tensor From<T>(T[,] data) where T : unmanaged => FromArray<T>(data);

    /// <summary>A 3-D tensor holding a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor From<T>(T[,,] data) where T : unmanaged => FromArray<T>(data);

    /// <summary>A 4-D tensor holding a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor From<T>(T[,,,] data) where T : unmanaged => FromArray<T>(data);

    /// <summary>The elements of a 2-D tensor as a [rows, columns] array. <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[,] ToArray2D<T>() where T : unmanaged
    {
        RequireRank(2, nameof(ToArray2D));
        var result = new T[ShapeArray[0], ShapeArray[1]];
        CopyToArray<T>(result);
        return result;
    }

    /// <summary>The elements of a 3-D tensor as a multidimensional array. <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[,,] ToArray3D<T>() where T : unmanaged
    {
        RequireRank(3, nameof(ToArray3D));
        var result = new T[ShapeArray[0], ShapeArray[1], ShapeArray[2]];
        CopyToArray<T>(result);
        return result;
    }

    /// <summary>The elements of a 4-D tensor as a multidimensional array. <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[,,,] ToArray4D<T>() where T : unmanaged
    {
        RequireRank(4, nameof(ToArray4D));
        var result = new T[ShapeArray[0], ShapeArray[1], ShapeArray[2], ShapeArray[3]];
        CopyToArray<T>(result);
        return result;
    }

    private static Tensor FromArray<T>(Array data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var shape = new int[data.Rank];
        for (int d = 0; d < shape.Length; d++) shape[d] = data.GetLength(d);
        return From<T>((ReadOnlySpan<T>)ElementsOf<T>(data), shape);
    }

    // A rectangular array's elements lie in one row-major block.
    private static Span<T> ElementsOf<T>(Array data) where T : unmanaged
        => MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(data)), data.Length);

    private void RequireRank(int rank, string method)
    {
        if (Rank != rank)
            throw new KilnShapeException($"{method}: the tensor has shape {Shape} ({Rank} dimensions), expected {rank}");
    }

    private void CopyToArray<T>(Array result) where T : unmanaged
    {
        Kiln.Ops.TraceRecorder.Current?.ReadingValues(this, $"ToArray{result.Rank}D()");
        CheckType<T>();
        var c = IsContiguous ? this : Contiguous();
        try { c.Span<T>().CopyTo(ElementsOf<T>(result)); }
        finally { if (!ReferenceEquals(c, this)) c.Dispose(); }
    }
}
