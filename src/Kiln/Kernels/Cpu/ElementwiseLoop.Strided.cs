using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>The strided, broadcasting forms of <see cref="ElementwiseLoop"/>: rows of a <see cref="StridedLayout"/>.</summary>
internal static unsafe partial class ElementwiseLoop
{
    internal static void Unary<TIn, TOut, TOp>(in StridedLayout layout, TIn* x, TOut* y, WorkerPool? pool = null)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        if (!Split(layout, out int items))
        {
            UnaryItems<TIn, TOut, TOp>(layout, x, y, 0, items);
            return;
        }
        var copy = layout;
        var job = new UnaryJob<TIn, TOut, TOp>(Unsafe.AsPointer(ref copy), x, y);
        Spread(pool, items, Math.Min(copy.RowLength, Segment), ref job);
    }

    internal static void Binary<T, TOut, TOp>(in StridedLayout layout, T* a, T* b, TOut* y, WorkerPool? pool = null)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        if (!Split(layout, out int items))
        {
            BinaryItems<T, TOut, TOp>(layout, a, b, y, 0, items);
            return;
        }
        var copy = layout;
        var job = new BinaryJob<T, TOut, TOp>(Unsafe.AsPointer(ref copy), a, b, y);
        Spread(pool, items, Math.Min(copy.RowLength, Segment), ref job);
    }

    /// <summary>
    /// <see cref="Unary{TIn, TOut, TOp}"/> for operators that carry parameters (a slope, clamp bounds):
    /// the operator is passed as a value and applied through <see cref="UnaryVectorLoop"/>.
    /// </summary>
    internal static void Unary<T, TOp>(in StridedLayout layout, T* x, T* y, TOp op, WorkerPool? pool = null)
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        if (!Split(layout, out int items))
        {
            VectorItems(layout, x, y, op, 0, items);
            return;
        }
        var copy = layout;
        var job = new VectorJob<T, TOp>(Unsafe.AsPointer(ref copy), x, y, op);
        Spread(pool, items, Math.Min(copy.RowLength, Segment), ref job);
    }

    /// <summary>
    /// Runs a three-operand operator (Where) over a four-operand layout (operand 0 = output). Each
    /// operand row is passed as a span: contiguous rows directly, broadcast ones spread into a
    /// chunk, strided ones gathered.
    /// </summary>
    internal static void Ternary<TA, TB, TOut, TOp>(in StridedLayout layout, TA* a, TB* b, TB* c, TOut* y, WorkerPool? pool = null)
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        if (!Split(layout, out int items))
        {
            TernaryItems<TA, TB, TOut, TOp>(layout, a, b, c, y, 0, items);
            return;
        }
        var copy = layout;
        var job = new TernaryJob<TA, TB, TOut, TOp>(Unsafe.AsPointer(ref copy), a, b, c, y);
        Spread(pool, items, Math.Min(copy.RowLength, Segment), ref job);
    }

    /// <summary>
    /// The loop's items are (row, segment) pairs in row-major order: a row of n elements has
    /// ceil(n / <see cref="Segment"/>) segments. True when the loop is large enough to share.
    /// </summary>
    private static bool Split(in StridedLayout layout, out int items)
    {
        int rows = layout.RowCount, n = layout.RowLength;
        // rows · n is an element count, so it fits an int, and so does the item count below it.
        items = rows == 0 || n == 0 ? 0 : rows * Segments(n);
        return items > 0 && rows * n >= 2 * MinShare;
    }

    /// <summary>
    /// Walks items [start, end) as (row, element range) pairs: each step is the run of the range's
    /// segments that lie in one row (one division up front, none per row).
    /// </summary>
    private ref struct ItemCursor
    {
        private readonly int _perRow, _n;
        private int _row, _segment, _left;
        internal int Row, From, To;

        internal ItemCursor(in StridedLayout layout, int start, int end)
        {
            _n = layout.RowLength;
            _perRow = Segments(_n);
            _row = _perRow == 0 ? 0 : start / _perRow;
            _segment = start - _row * _perRow;
            _left = _perRow == 0 ? 0 : end - start;
            Row = From = To = 0;
        }

        internal bool Next()
        {
            if (_left <= 0) return false;
            int take = Math.Min(_left, _perRow - _segment);
            Row = _row;
            From = _segment * Segment;
            To = (int)Math.Min(_n, (long)From + (long)take * Segment);
            _left -= take;
            _row++;
            _segment = 0;
            return true;
        }
    }

    private readonly struct UnaryJob<TIn, TOut, TOp>(void* layout, TIn* x, TOut* y) : IWorkerJob
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        public void Run(int start, int end) => UnaryItems<TIn, TOut, TOp>(Unsafe.AsRef<StridedLayout>(layout), x, y, start, end);
    }

    private static void UnaryItems<TIn, TOut, TOp>(in StridedLayout l, TIn* x, TOut* y, int start, int end)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        int sy = l.RowStride(0), sx = l.RowStride(1);
        Span<TIn> bx = stackalloc TIn[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        var cursor = new ItemCursor(l, start, end);
        while (cursor.Next())
        {
            TOut* py = y + l.RowOffset(0, cursor.Row);
            TIn* px = x + l.RowOffset(1, cursor.Row);
            for (int at = cursor.From; at < cursor.To; at += Chunk)
            {
                int len = Math.Min(Chunk, cursor.To - at);
                ReadOnlySpan<TIn> vx = sx == 1 ? new ReadOnlySpan<TIn>(px + at, len) : Operand(px, sx, at, bx[..len]);
                if (sy == 1)
                {
                    TOp.Invoke(vx, new Span<TOut>(py + at, len));
                }
                else
                {
                    TOp.Invoke(vx, by[..len]);
                    Scatter<TOut>(by[..len], py + (nint)at * sy, sy);
                }
            }
        }
    }

    private readonly struct BinaryJob<T, TOut, TOp>(void* layout, T* a, T* b, TOut* y) : IWorkerJob
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        public void Run(int start, int end) => BinaryItems<T, TOut, TOp>(Unsafe.AsRef<StridedLayout>(layout), a, b, y, start, end);
    }

    private static void BinaryItems<T, TOut, TOp>(in StridedLayout l, T* a, T* b, TOut* y, int start, int end)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        int sy = l.RowStride(0), sa = l.RowStride(1), sb = l.RowStride(2);
        Span<T> ba = stackalloc T[Chunk];
        Span<T> bb = stackalloc T[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        var cursor = new ItemCursor(l, start, end);
        while (cursor.Next())
        {
            TOut* py = y + l.RowOffset(0, cursor.Row);
            T* pa = a + l.RowOffset(1, cursor.Row);
            T* pb = b + l.RowOffset(2, cursor.Row);
            for (int at = cursor.From; at < cursor.To; at += Chunk)
            {
                int len = Math.Min(Chunk, cursor.To - at);
                Span<TOut> dst = sy == 1 ? new Span<TOut>(py + at, len) : by[..len];
                if (sa == 0 && sb == 0)
                {
                    TOp.Invoke(*pa, new ReadOnlySpan<T>(pb, 1), dst[..1]);
                    dst[1..].Fill(dst[0]);
                }
                else if (sa == 0)
                {
                    TOp.Invoke(*pa, Row(pb + (nint)at * sb, sb, bb[..len]), dst);
                }
                else if (sb == 0)
                {
                    TOp.Invoke(Row(pa + (nint)at * sa, sa, ba[..len]), *pb, dst);
                }
                else
                {
                    TOp.Invoke(Row(pa + (nint)at * sa, sa, ba[..len]), Row(pb + (nint)at * sb, sb, bb[..len]), dst);
                }
                if (sy != 1) Scatter<TOut>(by[..len], py + (nint)at * sy, sy);
            }
        }
    }

    private readonly struct VectorJob<T, TOp>(void* layout, T* x, T* y, TOp op) : IWorkerJob
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        public void Run(int start, int end) => VectorItems<T, TOp>(Unsafe.AsRef<StridedLayout>(layout), x, y, op, start, end);
    }

    private static void VectorItems<T, TOp>(in StridedLayout l, T* x, T* y, TOp op, int start, int end)
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        int sy = l.RowStride(0), sx = l.RowStride(1);
        Span<T> bx = stackalloc T[Chunk];
        Span<T> by = stackalloc T[Chunk];
        var cursor = new ItemCursor(l, start, end);
        while (cursor.Next())
        {
            T* py = y + l.RowOffset(0, cursor.Row);
            T* px = x + l.RowOffset(1, cursor.Row);
            for (int at = cursor.From; at < cursor.To; at += Chunk)
            {
                int len = Math.Min(Chunk, cursor.To - at);
                ReadOnlySpan<T> vx = Operand(px, sx, at, bx[..len]);
                if (sy == 1)
                {
                    UnaryVectorLoop.Run(vx, new Span<T>(py + at, len), op);
                }
                else
                {
                    UnaryVectorLoop.Run(vx, by[..len], op);
                    Scatter<T>(by[..len], py + (nint)at * sy, sy);
                }
            }
        }
    }

    private readonly struct TernaryJob<TA, TB, TOut, TOp>(void* layout, TA* a, TB* b, TB* c, TOut* y) : IWorkerJob
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        public void Run(int start, int end) => TernaryItems<TA, TB, TOut, TOp>(Unsafe.AsRef<StridedLayout>(layout), a, b, c, y, start, end);
    }

    private static void TernaryItems<TA, TB, TOut, TOp>(in StridedLayout l, TA* a, TB* b, TB* c, TOut* y, int start, int end)
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        int sy = l.RowStride(0), sa = l.RowStride(1), sb = l.RowStride(2), sc = l.RowStride(3);
        Span<TA> ba = stackalloc TA[Chunk];
        Span<TB> bb = stackalloc TB[Chunk];
        Span<TB> bc = stackalloc TB[Chunk];
        Span<TOut> by = stackalloc TOut[Chunk];
        var cursor = new ItemCursor(l, start, end);
        while (cursor.Next())
        {
            TOut* py = y + l.RowOffset(0, cursor.Row);
            TA* pa = a + l.RowOffset(1, cursor.Row);
            TB* pb = b + l.RowOffset(2, cursor.Row);
            TB* pc = c + l.RowOffset(3, cursor.Row);
            for (int at = cursor.From; at < cursor.To; at += Chunk)
            {
                int len = Math.Min(Chunk, cursor.To - at);
                Span<TOut> dst = sy == 1 ? new Span<TOut>(py + at, len) : by[..len];
                TOp.Invoke(Operand(pa, sa, at, ba[..len]), Operand(pb, sb, at, bb[..len]), Operand(pc, sc, at, bc[..len]), dst);
                if (sy != 1) Scatter<TOut>(by[..len], py + (nint)at * sy, sy);
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
