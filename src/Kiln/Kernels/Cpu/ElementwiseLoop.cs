using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Runs span operators over strided, broadcast operands row by row. Contiguous rows go straight to
/// the operator; a broadcast operand becomes the scalar form; any other stride is gathered into a
/// stack chunk first, so the arithmetic is always the operator's vectorized span code. The chunks
/// are scratch written before they are read, so they are not zeroed on entry (kilobytes per call).
/// <para>
/// Large loops are spread over a <see cref="WorkerPool"/>: the iteration space is cut into segments
/// of whole rows, or of <see cref="Segment"/> elements of a long row, and each participant takes a
/// contiguous run of segments. Segment boundaries fall on chunk boundaries, so every element goes
/// through the same operator call (vector body or scalar tail) whatever the thread count, and the
/// results are identical bit for bit. Loops under <see cref="MinShare"/> elements per participant
/// run inline on the caller.
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe partial class ElementwiseLoop
{
    private const int Chunk = 512;

    /// <summary>Elements of one row a participant takes at least at once: a multiple of <see cref="Chunk"/>.</summary>
    internal const int Segment = 8 * Chunk;

    /// <summary>
    /// Fewest elements worth handing to another thread: about 15 µs of a memory-bound operator. Waking a
    /// worker costs a few µs on an idle core, but tens when the core is busy with another process, so
    /// ops on a [64, 1024] activation stay on the caller.
    /// </summary>
    internal const int MinShare = 1 << 16;

    // ---- dense operands: one contiguous run of n elements ----

    /// <summary>y[i] = op(x[i]) over n contiguous elements (y may be x).</summary>
    internal static void DenseUnary<TIn, TOut, TOp>(TIn* x, TOut* y, int n, WorkerPool? pool = null)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        if (n < 2 * MinShare)
        {
            TOp.Invoke(new ReadOnlySpan<TIn>(x, n), new Span<TOut>(y, n));
            return;
        }
        var job = new DenseUnaryJob<TIn, TOut, TOp>(x, y, n);
        Spread(pool, Segments(n), Segment, ref job);
    }

    /// <summary>y[i] = op(x[i]) over n contiguous elements with a parameterized vector operator.</summary>
    internal static void DenseUnary<T, TOp>(T* x, T* y, int n, TOp op, WorkerPool? pool = null)
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        if (n < 2 * MinShare)
        {
            UnaryVectorLoop.Run(new ReadOnlySpan<T>(x, n), new Span<T>(y, n), op);
            return;
        }
        var job = new DenseVectorJob<T, TOp>(x, y, n, op);
        Spread(pool, Segments(n), Segment, ref job);
    }

    /// <summary>
    /// y[i] = op(a[i], b[i]) over n contiguous elements; an operand of <paramref name="scalarA"/> /
    /// <paramref name="scalarB"/> is one value broadcast to all.
    /// </summary>
    internal static void DenseBinary<T, TOut, TOp>(T* a, T* b, TOut* y, int n, bool scalarA, bool scalarB, WorkerPool? pool = null)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        if (n < 2 * MinShare)
        {
            BinaryRun<T, TOut, TOp>(a, b, y, 0, n, scalarA, scalarB);
            return;
        }
        var job = new DenseBinaryJob<T, TOut, TOp>(a, b, y, n, scalarA, scalarB);
        Spread(pool, Segments(n), Segment, ref job);
    }

    /// <summary>y[i] = op(a[i], b[i], c[i]) over n contiguous elements.</summary>
    internal static void DenseTernary<TA, TB, TOut, TOp>(TA* a, TB* b, TB* c, TOut* y, int n, WorkerPool? pool = null)
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        if (n < 2 * MinShare)
        {
            TOp.Invoke(new ReadOnlySpan<TA>(a, n), new ReadOnlySpan<TB>(b, n), new ReadOnlySpan<TB>(c, n), new Span<TOut>(y, n));
            return;
        }
        var job = new DenseTernaryJob<TA, TB, TOut, TOp>(a, b, c, y, n);
        Spread(pool, Segments(n), Segment, ref job);
    }

    private static void BinaryRun<T, TOut, TOp>(T* a, T* b, TOut* y, int start, int end, bool scalarA, bool scalarB)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        int len = end - start;
        var d = new Span<TOut>(y + start, len);
        if (scalarB) TOp.Invoke(new ReadOnlySpan<T>(a + start, len), *b, d);
        else if (scalarA) TOp.Invoke(*a, new ReadOnlySpan<T>(b + start, len), d);
        else TOp.Invoke(new ReadOnlySpan<T>(a + start, len), new ReadOnlySpan<T>(b + start, len), d);
    }

    private static int Segments(int n) => (n + Segment - 1) / Segment;

    /// <summary>Items [0, count) over the pool, at least <see cref="MinShare"/> elements (of <paramref name="itemSize"/> each) per participant.</summary>
    private static void Spread<TJob>(WorkerPool? pool, int count, int itemSize, ref TJob job) where TJob : unmanaged, IWorkerJob
        => (pool ?? WorkerPool.Shared).For(count, Math.Max(1, MinShare / Math.Max(itemSize, 1)), ref job);

    private readonly struct DenseUnaryJob<TIn, TOut, TOp>(TIn* x, TOut* y, int n) : IWorkerJob
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        public void Run(int start, int end)
        {
            int from = start * Segment, to = Math.Min(n, end * Segment);
            TOp.Invoke(new ReadOnlySpan<TIn>(x + from, to - from), new Span<TOut>(y + from, to - from));
        }
    }

    private readonly struct DenseVectorJob<T, TOp>(T* x, T* y, int n, TOp op) : IWorkerJob
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        public void Run(int start, int end)
        {
            int from = start * Segment, to = Math.Min(n, end * Segment);
            UnaryVectorLoop.Run(new ReadOnlySpan<T>(x + from, to - from), new Span<T>(y + from, to - from), op);
        }
    }

    private readonly struct DenseBinaryJob<T, TOut, TOp>(T* a, T* b, TOut* y, int n, bool scalarA, bool scalarB) : IWorkerJob
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        public void Run(int start, int end) => BinaryRun<T, TOut, TOp>(a, b, y, start * Segment, Math.Min(n, end * Segment), scalarA, scalarB);
    }

    private readonly struct DenseTernaryJob<TA, TB, TOut, TOp>(TA* a, TB* b, TB* c, TOut* y, int n) : IWorkerJob
        where TA : unmanaged
        where TB : unmanaged
        where TOut : unmanaged
        where TOp : ITernarySpanOperator<TA, TB, TOut>
    {
        public void Run(int start, int end)
        {
            int from = start * Segment, to = Math.Min(n, end * Segment), len = to - from;
            TOp.Invoke(new ReadOnlySpan<TA>(a + from, len), new ReadOnlySpan<TB>(b + from, len), new ReadOnlySpan<TB>(c + from, len), new Span<TOut>(y + from, len));
        }
    }
}
