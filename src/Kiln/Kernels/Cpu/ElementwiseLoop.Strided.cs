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
        var copy = layout;
        var job = new UnaryJob<TIn, TOut, TOp>(Unsafe.AsPointer(ref copy), x, y);
        RunItems(pool, copy, ref job);
    }

    internal static void Binary<T, TOut, TOp>(in StridedLayout layout, T* a, T* b, TOut* y, WorkerPool? pool = null)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        var copy = layout;
        var job = new BinaryJob<T, TOut, TOp>(Unsafe.AsPointer(ref copy), a, b, y);
        RunItems(pool, copy, ref job);
    }

    /// <summary>
    /// <see cref="Unary{TIn, TOut, TOp}"/> for operators that carry parameters (a slope, clamp bounds):
    /// the operator is passed as a value and applied through <see cref="UnaryVectorLoop"/>.
    /// </summary>
    internal static void Unary<T, TOp>(in StridedLayout layout, T* x, T* y, TOp op, WorkerPool? pool = null)
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        var copy = layout;
        var job = new VectorJob<T, TOp>(Unsafe.AsPointer(ref copy), x, y, op);
        RunItems(pool, copy, ref job);
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
        var copy = layout;
        var job = new TernaryJob<TA, TB, TOut, TOp>(Unsafe.AsPointer(ref copy), a, b, c, y);
        RunItems(pool, copy, ref job);
    }

    /// <summary>
    /// The loop's items are (row, segment) pairs in row-major order: a row of n elements has
    /// ceil(n / <see cref="Segment"/>) segments. Small loops run inline without the pool.
    /// </summary>
    private static void RunItems<TJob>(WorkerPool? pool, in StridedLayout layout, ref TJob job) where TJob : unmanaged, IWorkerJob
    {
        int rows = layout.RowCount, n = layout.RowLength;
        if (rows == 0 || n == 0) return;
        // rows · n is an element count, so it fits an int, and so does the item count below it.
        int items = rows * Segments(n);
        if (rows * n < 2 * MinShare)
        {
            job.Run(0, items);
            return;
        }
        Spread(pool, items, Math.Min(n, Segment), ref job);
    }

    /// <summary>Walks items [start, end) as (row, element range) pairs.</summary>
    private ref struct ItemCursor
    {
        private readonly int _perRow, _n;
        private int _item;
        private readonly int _end;
        internal int Row, From, To;

        internal ItemCursor(in StridedLayout layout, int start, int end)
        {
            _n = layout.RowLength;
            _perRow = Segments(_n);
            _item = start;
            _end = end;
            Row = From = To = 0;
        }

        internal bool Next()
        {
            if (_item >= _end) return false;
            Row = _item / _perRow;
            int s = _item - Row * _perRow;
            From = s * Segment;
            To = Math.Min(_n, From + Segment);
            // A run of whole segments of one row is one range (fewer row offset computations).
            while (++_item < _end && _item % _perRow != 0) To = Math.Min(_n, To + Segment);
            return true;
        }
    }

    [SkipLocalsInit]
    private readonly struct UnaryJob<TIn, TOut, TOp>(void* layout, TIn* x, TOut* y) : IWorkerJob
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        public void Run(int start, int end)
        {
            ref readonly var l = ref Unsafe.AsRef<StridedLayout>(layout);
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
    }

    [SkipLocalsInit]
    private readonly struct BinaryJob<T, TOut, TOp>(void* layout, T* a, T* b, TOut* y) : IWorkerJob
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        public void Run(int start, int end)
        {
            ref readonly var l = ref Unsafe.AsRef<StridedLayout>(layout);
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
    }

    [SkipLocalsInit]
    private readonly struct VectorJob<T, TOp>(void* layout, T* x, T* y, TOp op) : IWorkerJob
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        public void Run(int start, int end)
        {
            ref readonly var l = ref Unsafe.AsRef<StridedLayout>(layout);
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
    }

    [SkipLocalsInit]
    private readonly struct TernaryJob<TA, TB, TOut, TOp>(void* layout, TA* a, TB* b, TB* c, TOut* y) : IWorkerJob
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        public void Run(int start, int end)
        {
            ref readonly var l = ref Unsafe.AsRef<StridedLayout>(layout);
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
