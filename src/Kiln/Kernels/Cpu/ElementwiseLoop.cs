using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Runs span operators over strided, broadcast operands row by row. Contiguous rows go straight to
/// the operator; a broadcast operand becomes the scalar form; any other stride is gathered into a
/// stack chunk first, so the arithmetic is always the operator's vectorized span code. The chunks
/// are scratch written before they are read, so they are not zeroed on entry (kilobytes per call).
/// </summary>
[SkipLocalsInit]
internal static unsafe class ElementwiseLoop
{
    private const int Chunk = 512;

    internal static void Unary<TIn, TOut, TOp>(in StridedLayout layout, TIn* x, TOut* y)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        int rows = layout.RowCount, n = layout.RowLength;
        int sy = layout.RowStride(0), sx = layout.RowStride(1);
        Span<TIn> bx = stackalloc TIn[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        for (int r = 0; r < rows; r++)
        {
            TOut* py = y + layout.RowOffset(0, r);
            TIn* px = x + layout.RowOffset(1, r);
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                ReadOnlySpan<TIn> vx = sx == 1 ? new ReadOnlySpan<TIn>(px + start, len) : Gather(px + (nint)start * sx, sx, bx[..len]);
                if (sy == 1)
                {
                    TOp.Invoke(vx, new Span<TOut>(py + start, len));
                }
                else
                {
                    TOp.Invoke(vx, by[..len]);
                    Scatter(by[..len], py + (nint)start * sy, sy);
                }
            }
        }
    }

    internal static void Binary<T, TOut, TOp>(in StridedLayout layout, T* a, T* b, TOut* y)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        int rows = layout.RowCount, n = layout.RowLength;
        int sy = layout.RowStride(0), sa = layout.RowStride(1), sb = layout.RowStride(2);
        Span<T> ba = stackalloc T[Chunk];
        Span<T> bb = stackalloc T[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        for (int r = 0; r < rows; r++)
        {
            TOut* py = y + layout.RowOffset(0, r);
            T* pa = a + layout.RowOffset(1, r);
            T* pb = b + layout.RowOffset(2, r);
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                Span<TOut> dst = sy == 1 ? new Span<TOut>(py + start, len) : by[..len];
                if (sa == 0 && sb == 0)
                {
                    T sx = *pa;
                    TOp.Invoke(sx, new ReadOnlySpan<T>(pb, 1), dst[..1]);
                    dst[1..].Fill(dst[0]);
                }
                else if (sa == 0)
                {
                    TOp.Invoke(*pa, Row(pb + (nint)start * sb, sb, bb[..len]), dst);
                }
                else if (sb == 0)
                {
                    TOp.Invoke(Row(pa + (nint)start * sa, sa, ba[..len]), *pb, dst);
                }
                else
                {
                    TOp.Invoke(Row(pa + (nint)start * sa, sa, ba[..len]), Row(pb + (nint)start * sb, sb, bb[..len]), dst);
                }
                if (sy != 1) Scatter(by[..len], py + (nint)start * sy, sy);
            }
        }
    }

    /// <summary>
    /// <see cref="Unary{TIn, TOut, TOp}"/> for operators that carry parameters (a slope, clamp bounds):
    /// the operator is passed as a value and applied through <see cref="UnaryVectorLoop"/>.
    /// </summary>
    internal static void Unary<T, TOp>(in StridedLayout layout, T* x, T* y, TOp op)
        where T : unmanaged
        where TOp : struct, IUnaryVectorOperator<T>
    {
        int rows = layout.RowCount, n = layout.RowLength;
        int sy = layout.RowStride(0), sx = layout.RowStride(1);
        Span<T> bx = stackalloc T[Chunk];
        Span<T> by = stackalloc T[Chunk];
        for (int r = 0; r < rows; r++)
        {
            T* py = y + layout.RowOffset(0, r);
            T* px = x + layout.RowOffset(1, r);
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                ReadOnlySpan<T> vx = Operand(px, sx, start, bx[..len]);
                if (sy == 1)
                {
                    UnaryVectorLoop.Run(vx, new Span<T>(py + start, len), op);
                }
                else
                {
                    UnaryVectorLoop.Run(vx, by[..len], op);
                    Scatter<T>(by[..len], py + (nint)start * sy, sy);
                }
            }
        }
    }

    /// <summary>
    /// Runs a three-operand operator (Where) over a four-operand layout (operand 0 = output). Each
    /// operand row is passed as a span: contiguous rows directly, broadcast ones spread into a
    /// chunk, strided ones gathered.
    /// </summary>
    internal static void Ternary<TA, TB, TOut, TOp>(in StridedLayout layout, TA* a, TB* b, TB* c, TOut* y)
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        int rows = layout.RowCount, n = layout.RowLength;
        int sy = layout.RowStride(0), sa = layout.RowStride(1), sb = layout.RowStride(2), sc = layout.RowStride(3);
        Span<TA> ba = stackalloc TA[Chunk];
        Span<TB> bb = stackalloc TB[Chunk];
        Span<TB> bc = stackalloc TB[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        for (int r = 0; r < rows; r++)
        {
            TOut* py = y + layout.RowOffset(0, r);
            TA* pa = a + layout.RowOffset(1, r);
            TB* pb = b + layout.RowOffset(2, r);
            TB* pc = c + layout.RowOffset(3, r);
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                Span<TOut> dst = sy == 1 ? new Span<TOut>(py + start, len) : by[..len];
                TOp.Invoke(Operand(pa, sa, start, ba[..len]), Operand(pb, sb, start, bb[..len]), Operand(pc, sc, start, bc[..len]), dst);
                if (sy != 1) Scatter<TOut>(by[..len], py + (nint)start * sy, sy);
            }
        }
    }

    // The chunk of a row starting at element start: the memory itself, the broadcast value spread, or a gather.
    private static ReadOnlySpan<T> Operand<T>(T* p, int stride, int start, Span<T> scratch) where T : unmanaged
    {
        if (stride == 0)
        {
            scratch.Fill(*p);
            return scratch;
        }
        return Row(p + (nint)start * stride, stride, scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<T> Row<T>(T* p, int stride, Span<T> scratch) where T : unmanaged
        => stride == 1 ? new ReadOnlySpan<T>(p, scratch.Length) : Gather(p, stride, scratch);

    private static ReadOnlySpan<T> Gather<T>(T* p, int stride, Span<T> scratch) where T : unmanaged
    {
        for (int i = 0; i < scratch.Length; i++) scratch[i] = p[(nint)i * stride];
        return scratch;
    }

    private static void Scatter<T>(ReadOnlySpan<T> values, T* p, int stride) where T : unmanaged
    {
        for (int i = 0; i < values.Length; i++) p[(nint)i * stride] = values[i];
    }
}
