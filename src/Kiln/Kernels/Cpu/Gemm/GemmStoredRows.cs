using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The memory one block of a GEMM operand occupies where it is stored: <see cref="Rows"/> stored rows
/// <see cref="Ld"/> elements apart, each <see cref="LinesPerRow"/> cache lines from <see cref="First"/>
/// on, so the driver can prefetch a block it will pack next while it multiplies the current one.
/// The default value covers nothing.
/// </summary>
internal readonly unsafe struct GemmStoredRows<T> where T : unmanaged
{
    private GemmStoredRows(T* first, nint ld, int rows, int linesPerRow)
    {
        First = first;
        Ld = ld;
        Rows = rows;
        LinesPerRow = linesPerRow;
    }

    internal T* First { get; }

    internal nint Ld { get; }

    internal int Rows { get; }

    internal int LinesPerRow { get; }

    /// <summary>Cache lines in all: rows × lines per row.</summary>
    internal long Lines => (long)Rows * LinesPerRow;

    /// <summary>
    /// Columns [j0, j0+cols) and depth [p0, p0+kc) of op(B) as stored: kc rows of cols elements, or
    /// cols rows of kc elements when B is stored transposed.
    /// </summary>
    internal static GemmStoredRows<T> Of(in GemmOperand<T> b, int j0, int cols, int p0, int kc)
    {
        if (cols <= 0 || kc <= 0) return default;
        return b.Transposed
            ? new(b.Data + (nint)j0 * b.Ld + p0, b.Ld, cols, LinesOf(kc))
            : new(b.Data + (nint)p0 * b.Ld + j0, b.Ld, kc, LinesOf(cols));
    }

    private static int LinesOf(int elements) => (elements * sizeof(T) + 63) / 64;

    /// <summary>
    /// Asks for the next <paramref name="count"/> lines into L2, row by row from the cursor
    /// (<paramref name="row"/>, <paramref name="line"/>), which it moves on; past the last row it stops.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Prefetch(ref int row, ref int line, int count)
    {
        if (!Sse.IsSupported) return;
        for (; count > 0 && row < Rows; count--)
        {
            Sse.Prefetch1((byte*)(First + row * Ld) + line * 64);
            if (++line == LinesPerRow)
            {
                line = 0;
                row++;
            }
        }
    }
}
