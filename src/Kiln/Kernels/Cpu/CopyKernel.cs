namespace Kiln.Kernels.Cpu;

/// <summary>Copies a strided view into another strided view of the same shape, element size agnostic.</summary>
internal static unsafe class CopyKernel
{
    /// <summary>Copies <paramref name="src"/> into <paramref name="dst"/> under a two-operand layout (operand 0 = dst, 1 = src).</summary>
    internal static void Copy(StridedLayout layout, byte* dst, byte* src, int elementSize)
    {
        switch (elementSize)
        {
            case 1: CopyTyped(layout, dst, src); break;
            case 2: CopyTyped(layout, (short*)dst, (short*)src); break;
            case 4: CopyTyped(layout, (int*)dst, (int*)src); break;
            case 8: CopyTyped(layout, (long*)dst, (long*)src); break;
            default: throw new ArgumentOutOfRangeException(nameof(elementSize));
        }
    }

    private static void CopyTyped<T>(StridedLayout layout, T* dst, T* src) where T : unmanaged
    {
        int rows = layout.RowCount, n = layout.RowLength;
        int sd = layout.RowStride(0), ss = layout.RowStride(1);
        for (int r = 0; r < rows; r++)
        {
            T* pd = dst + layout.RowOffset(0, r);
            T* ps = src + layout.RowOffset(1, r);
            if (sd == 1 && ss == 1)
            {
                new ReadOnlySpan<T>(ps, n).CopyTo(new Span<T>(pd, n));
            }
            else if (ss == 0 && sd == 1)
            {
                new Span<T>(pd, n).Fill(*ps);
            }
            else
            {
                for (int i = 0; i < n; i++) pd[(nint)i * sd] = ps[(nint)i * ss];
            }
        }
    }
}
