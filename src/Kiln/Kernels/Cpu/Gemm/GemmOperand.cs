namespace Kiln.Kernels.Cpu;

/// <summary>
/// One GEMM input as the math sees it, op(X): element (row, col) is at Data[row·Ld + col], or at
/// Data[col·Ld + row] when <see cref="Transposed"/> (the stored matrix is the transpose).
/// </summary>
internal readonly unsafe struct GemmOperand<T>(T* data, int ld, bool transposed) where T : unmanaged
{
    internal readonly T* Data = data;
    internal readonly int Ld = ld;
    internal readonly bool Transposed = transposed;
}
