namespace Kiln.Ops;

/// <summary>How the matmul ops hand a strided tensor's matrix to GEMM without copying it when they can.</summary>
internal static class MatrixLayout
{
    /// <summary>
    /// Whether a rows×cols matrix whose elements are rowStride and colStride apart can be read by GEMM
    /// directly: row-major (colStride 1, ld = rowStride) or as a stored transpose (rowStride 1,
    /// ld = colStride). The stride of a dimension of size 1 never matters.
    /// </summary>
    internal static bool TryGemmOperand(int rows, int cols, int rowStride, int colStride, out bool transposed, out int ld)
    {
        if (cols <= 1) colStride = 1;
        if (colStride == 1 && (rowStride >= 0 || rows <= 1))
        {
            transposed = false;
            ld = rows <= 1 ? Math.Max(cols, 1) : rowStride;
            return true;
        }
        if ((rowStride == 1 || rows <= 1) && colStride >= 0)
        {
            transposed = true;
            ld = colStride;
            return true;
        }
        transposed = false;
        ld = 0;
        return false;
    }

    /// <summary>A contiguous copy of <paramref name="t"/> made inside a forward: not recorded for autograd.</summary>
    internal static Tensor DenseCopy(Tensor t)
    {
        var copy = Tensor.Empty(t.ShapeArray, t.DType);
        Dispatcher.CopyInto(t, copy);
        return copy;
    }
}
