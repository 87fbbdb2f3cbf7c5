using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// How a reduction combines values: its identity, its scalar and elementwise combine (associative and
/// commutative), and the map applied to each input value first. Plain reductions (Sum, Max, Min, Prod)
/// map nothing; shifted ones map each value with a per-output <c>shift</c> ((x - mean)² for the variance,
/// exp(x - max) for log-sum-exp).
/// </summary>
internal interface IReduceOperator<T> where T : unmanaged
{
    /// <summary>The result of reducing nothing.</summary>
    static abstract T Identity { get; }

    static abstract T Combine(T a, T b);

    /// <summary>accumulator[i] = accumulator[i] ⊕ x[i].</summary>
    static abstract void Combine(ReadOnlySpan<T> x, Span<T> accumulator);

    /// <summary>⊕ of map(x[i], shift) over a non-empty run; <paramref name="scratch"/> is as long as <paramref name="x"/>.</summary>
    static abstract T Reduce(ReadOnlySpan<T> x, T shift, Span<T> scratch);

    /// <summary>destination[i] = map(x[i], shift[i]); <paramref name="shift"/> is empty for plain reductions.</summary>
    static abstract void Map(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> destination);

    /// <summary>accumulator[i] = accumulator[i] ⊕ map(x[i], shift[i]); <paramref name="scratch"/> is as long as <paramref name="x"/>.</summary>
    static abstract void Accumulate(ReadOnlySpan<T> x, ReadOnlySpan<T> shift, Span<T> accumulator, Span<T> scratch);
}

/// <summary>Which value an arg-reduction (ArgMax, ArgMin) keeps; on ties the earlier index wins.</summary>
internal interface IArgReduceOperator<T> where T : unmanaged
{
    /// <summary>True when <paramref name="candidate"/> strictly beats <paramref name="best"/>.</summary>
    static abstract bool Better(T candidate, T best);

    /// <summary>All-ones lanes where <paramref name="candidate"/> strictly beats <paramref name="best"/>: the vector form of <see cref="Better(T, T)"/>.</summary>
    static abstract Vector256<T> Better(Vector256<T> candidate, Vector256<T> best);

    /// <summary>Index of the first winner of a non-empty run.</summary>
    static abstract int IndexOfBest(ReadOnlySpan<T> x);
}

/// <summary>
/// The iteration space of a reduction. Size-1 dimensions are dropped; neighbours that are both kept or
/// both reduced and step evenly in the input and the output are merged. The innermost remaining
/// dimension is the row. When it is reduced (<see cref="RowReduced"/>), each output element folds whole
/// rows with the operator's span reduction; when it is kept, each output row accumulates whole input
/// rows elementwise (a bias gradient: sum over dim 0 of [N, D] adds N rows of D).
/// </summary>
internal sealed class ReduceLayout
{
    /// <summary>Kept dimensions outside the row, with input and output strides.</summary>
    internal readonly int[] OuterShape, OuterIn, OuterOut;

    /// <summary>Reduced dimensions outside the row, outermost first, with input strides.</summary>
    internal readonly int[] ReducedShape, ReducedIn;

    internal readonly bool RowReduced;
    internal readonly int RowLength, RowIn, RowOut;

    internal readonly int OuterCount, ReducedCount;

    private ReduceLayout(List<Dim> outer, List<Dim> reduced, Dim row)
    {
        OuterShape = [.. outer.Select(d => d.Size)];
        OuterIn = [.. outer.Select(d => d.In)];
        OuterOut = [.. outer.Select(d => d.Out)];
        ReducedShape = [.. reduced.Select(d => d.Size)];
        ReducedIn = [.. reduced.Select(d => d.In)];
        RowReduced = row.Reduced;
        RowLength = row.Size;
        RowIn = row.In;
        RowOut = row.Out;
        OuterCount = Product(OuterShape);
        ReducedCount = Product(ReducedShape);
    }

    private readonly record struct Dim(int Size, int In, int Out, bool Reduced);

    /// <summary>
    /// The layout for reducing a tensor of <paramref name="shape"/> and <paramref name="inStrides"/>;
    /// <paramref name="outStrides"/> gives, per input dimension, the output's stride (ignored where
    /// <paramref name="reduced"/>). With <paramref name="reorder"/> the dimensions are visited in the order of
    /// decreasing input stride (a transposed input still reads contiguous rows); without it they keep their
    /// logical order, which arg-reductions need to number positions.
    /// </summary>
    internal static ReduceLayout Create(ReadOnlySpan<int> shape, ReadOnlySpan<int> inStrides, ReadOnlySpan<int> outStrides,
        ReadOnlySpan<bool> reduced, bool reorder)
    {
        var dims = new List<Dim>(shape.Length);
        bool emptyReduction = false, emptyOutput = false;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 0)
            {
                if (reduced[i]) emptyReduction = true;
                else emptyOutput = true;
            }
            else if (shape[i] != 1)
            {
                dims.Add(new Dim(shape[i], inStrides[i], reduced[i] ? 0 : outStrides[i], reduced[i]));
            }
        }

        if (emptyOutput) return new ReduceLayout([new Dim(0, 0, 0, false)], [], new Dim(0, 0, 0, true));
        if (emptyReduction)
        {
            // Every output is the identity: a row of length 0 per kept position.
            dims.RemoveAll(d => d.Reduced);
            return new ReduceLayout(Coalesce(dims), [], new Dim(0, 1, 0, true));
        }
        if (reorder)
        {
            // Stable, so equal strides keep their logical order; broadcast (stride 0) dimensions go outermost.
            dims = [.. dims.OrderByDescending(d => d.In == 0 ? long.MaxValue : Math.Abs((long)d.In))];
        }
        dims = Coalesce(dims);
        if (dims.Count == 0) dims.Add(new Dim(1, 1, 0, true));

        var row = dims[^1];
        dims.RemoveAt(dims.Count - 1);
        var outer = dims.Where(d => !d.Reduced).ToList();
        var reducedDims = dims.Where(d => d.Reduced).ToList();
        return new ReduceLayout(outer, reducedDims, row);
    }

    private static List<Dim> Coalesce(List<Dim> dims)
    {
        var result = new List<Dim>(dims.Count);
        foreach (var d in dims)
        {
            if (result.Count > 0)
            {
                var prev = result[^1];
                if (prev.Reduced == d.Reduced && prev.In == (long)d.In * d.Size && prev.Out == (long)d.Out * d.Size)
                {
                    result[^1] = d with { Size = prev.Size * d.Size };
                    continue;
                }
            }
            result.Add(d);
        }
        return result;
    }

    private static int Product(int[] shape)
    {
        int n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }
}

/// <summary>
/// Reductions over any set of dimensions, reading the input where it lies: rows along a contiguous
/// reduced dimension go to the operator's span reduction (TensorPrimitives), rows along a kept
/// contiguous dimension are accumulated elementwise, and other strides are gathered a chunk at a time.
/// Partial results are combined pairwise in a fixed order, so long float sums stay accurate and the
/// result depends only on the shape and layout. Large reductions are spread over a
/// <see cref="WorkerPool"/> without changing that order: by output (rows), by output column chunk
/// (columns), or, for a single output, by fixed blocks of the pairwise tree (see ReduceOneOutput).
/// </summary>
internal static unsafe class ReduceKernel
{
    /// <summary>Elements per span call; long rows are cut into chunks of this size.</summary>
    internal const int Chunk = 1024;

    /// <summary>Input rows accumulated one after another before the block joins the pairwise tree.</summary>
    internal const int BlockRows = 32;

    /// <summary>
    /// y = reduce(x) under <paramref name="layout"/>; <paramref name="shift"/> (null for plain reductions)
    /// is a per-output value laid out like <paramref name="y"/>.
    /// </summary>
    internal static void Reduce<T, TOp>(ReduceLayout layout, T* x, T* shift, T* y, WorkerPool? pool = null)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        if (layout.OuterCount == 0) return;
        long work = (long)layout.OuterCount * layout.ReducedCount * layout.RowLength;
        if (work < 2 * ElementwiseLoop.MinShare)
        {
            if (layout.RowReduced) ReduceRows<T, TOp>(layout, x, shift, y, 0, layout.OuterCount);
            else ReduceColumns<T, TOp>(layout, x, shift, y, 0, layout.OuterCount * ColumnChunks(layout));
            return;
        }
        var handle = GCHandle.Alloc(layout);
        try
        {
            var job = new ReduceJob<T, TOp>(GCHandle.ToIntPtr(handle), x, shift, y);
            pool ??= WorkerPool.Shared;
            if (!layout.RowReduced)
            {
                // Every output column chunk is its own sum: split them (outer × chunk) over the pool.
                job.Mode = ReduceJob<T, TOp>.Columns;
                long perItem = (long)layout.ReducedCount * Math.Min(layout.RowLength, Chunk);
                pool.For(layout.OuterCount * ColumnChunks(layout), Grain(perItem), ref job);
            }
            else if (layout.OuterCount > 1)
            {
                job.Mode = ReduceJob<T, TOp>.Rows;
                pool.For(layout.OuterCount, Grain((long)layout.ReducedCount * layout.RowLength), ref job);
            }
            else
            {
                ReduceOneOutput(layout, ref job, pool);
            }
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>
    /// Σ x with four independent vector accumulators (summed as (a0 + a1) + (a2 + a3)), then the scalar
    /// tail: about 1.7× TensorPrimitives.Sum on a chunk in cache here, whose single dependency chain waits
    /// on each addition. A fixed order for a given length, so sums stay reproducible.
    /// </summary>
    internal static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        if (!Vector256.IsHardwareAccelerated || !Vector256<T>.IsSupported) return TensorPrimitives.Sum(x);
        ref T s = ref MemoryMarshal.GetReference(x);
        int width = Vector256<T>.Count, i = 0;
        T result = T.Zero;
        if (x.Length >= 4 * width)
        {
            Vector256<T> a0 = Vector256<T>.Zero, a1 = Vector256<T>.Zero, a2 = Vector256<T>.Zero, a3 = Vector256<T>.Zero;
            for (; i <= x.Length - 4 * width; i += 4 * width)
            {
                a0 += Vector256.LoadUnsafe(ref s, (nuint)i);
                a1 += Vector256.LoadUnsafe(ref s, (nuint)(i + width));
                a2 += Vector256.LoadUnsafe(ref s, (nuint)(i + 2 * width));
                a3 += Vector256.LoadUnsafe(ref s, (nuint)(i + 3 * width));
            }
            for (; i <= x.Length - width; i += width) a0 += Vector256.LoadUnsafe(ref s, (nuint)i);
            result = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < x.Length; i++) result += Unsafe.Add(ref s, i);
        return result;
    }

    /// <summary>Chunks of the pairwise tree folded by one participant at once when a whole tensor reduces to one value (a power of two).</summary>
    internal const int BlockChunks = 32;

    private static int Grain(long elementsPerItem) => (int)Math.Clamp(ElementwiseLoop.MinShare / Math.Max(elementsPerItem, 1), 1, int.MaxValue);

    private static int ColumnChunks(ReduceLayout l) => (l.RowLength + Chunk - 1) / Chunk;

    /// <summary>
    /// One output from many chunks (Sum of a whole tensor): the chunk sequence is cut into aligned blocks
    /// of <see cref="BlockChunks"/> chunks. A block's pairwise sum is exactly the node the sequential tree
    /// builds over those chunks, so folding the block results in the sequential tree's order (the last,
    /// partial block's own result first, then the complete blocks' levels from the lowest) gives the
    /// serial result bit for bit, whatever the thread count.
    /// </summary>
    private static void ReduceOneOutput<T, TOp>(ReduceLayout l, ref ReduceJob<T, TOp> job, WorkerPool pool)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        long chunks = (long)l.ReducedCount * ColumnChunks(l);
        int blocks = (int)((chunks + BlockChunks - 1) / BlockChunks);
        T[] partials = ArrayPool<T>.Shared.Rent(blocks);
        try
        {
            fixed (T* p = partials)
            {
                job.Mode = ReduceJob<T, TOp>.Blocks;
                job.Partials = p;
                pool.For(blocks, Grain((long)BlockChunks * Chunk), ref job);
            }
            bool partial = chunks % BlockChunks != 0;
            int complete = partial ? blocks - 1 : blocks;
            Span<T> levels = stackalloc T[32];
            var tree = new PairwiseTree<T, TOp>(levels);
            for (int b = 0; b < complete; b++) tree.Push(partials[b]);
            // One output: every kept dimension has size 1, so it sits at the output's start.
            *job.Y = partial ? tree.Result(partials[blocks - 1]) : tree.Result();
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    private struct ReduceJob<T, TOp>(nint layout, T* x, T* shift, T* y) : IWorkerJob
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        internal const int Rows = 0, Columns = 1, Blocks = 2;
        internal int Mode;
        internal T* Partials;
        internal readonly T* Y => y;

        public readonly void Run(int start, int end)
        {
            var l = (ReduceLayout)GCHandle.FromIntPtr(layout).Target!;
            switch (Mode)
            {
                case Rows: ReduceRows<T, TOp>(l, x, shift, y, start, end); break;
                case Columns: ReduceColumns<T, TOp>(l, x, shift, y, start, end); break;
                default: ReduceBlocks<T, TOp>(l, x, shift, Partials, start, end); break;
            }
        }
    }

    /// <summary>partials[b] = the pairwise result of chunks [b·BlockChunks, (b + 1)·BlockChunks) of the one output (outer position 0).</summary>
    private static void ReduceBlocks<T, TOp>(ReduceLayout l, T* x, T* shift, T* partials, int start, int end)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        Span<T> gathered = stackalloc T[Chunk];
        Span<T> scratch = stackalloc T[Chunk];
        Span<T> levels = stackalloc T[32];
        int n = l.RowLength, stride = l.RowIn, perRow = ColumnChunks(l);
        long chunks = (long)l.ReducedCount * perRow;
        T s = shift is null ? default : shift[0];
        for (int b = start; b < end; b++)
        {
            var tree = new PairwiseTree<T, TOp>(levels);
            long first = (long)b * BlockChunks;
            int count = (int)(Math.Min(chunks, first + BlockChunks) - first);
            // The block's first chunk, then a walk along the rows (no division per chunk).
            int r = (int)(first / perRow), at = (int)(first % perRow) * Chunk;
            T* row = x + Offset(r, l.ReducedShape, l.ReducedIn);
            for (int k = 0; k < count; k++)
            {
                int len = Math.Min(Chunk, n - at);
                var values = stride == 1
                    ? new ReadOnlySpan<T>(row + at, len)
                    : Gather(row + (nint)at * stride, stride, gathered[..len]);
                tree.Push(TOp.Reduce(values, s, scratch[..len]));
                at += Chunk;
                if (at >= n && k + 1 < count)
                {
                    at = 0;
                    row = x + Offset(++r, l.ReducedShape, l.ReducedIn);
                }
            }
            partials[b] = tree.Result();
        }
    }

    /// <summary>
    /// y = the index of the winning value along the reduced dimensions, counted in row-major order over
    /// them (the layout must be made without reordering).
    /// </summary>
    internal static void ArgReduce<T, TOp>(ReduceLayout layout, T* x, long* y)
        where T : unmanaged
        where TOp : IArgReduceOperator<T>
    {
        if (layout.OuterCount == 0) return;
        if (layout.RowReduced && layout.RowLength == 0)
            throw new InvalidOperationException("an arg-reduction needs at least one element per output");
        if (layout.RowReduced) ArgRows<T, TOp>(layout, x, y);
        else ArgColumns<T, TOp>(layout, x, y);
    }

    private static void ReduceRows<T, TOp>(ReduceLayout l, T* x, T* shift, T* y, int outerStart, int outerEnd)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        Span<T> gathered = stackalloc T[Chunk];
        Span<T> scratch = stackalloc T[Chunk];
        Span<T> levels = stackalloc T[32];
        int rows = l.ReducedCount, n = l.RowLength, stride = l.RowIn;
        for (int o = outerStart; o < outerEnd; o++)
        {
            int xo = Offset(o, l.OuterShape, l.OuterIn), yo = Offset(o, l.OuterShape, l.OuterOut);
            T s = shift is null ? default : shift[yo];
            var tree = new PairwiseTree<T, TOp>(levels);
            for (int r = 0; r < rows; r++)
            {
                T* row = x + xo + Offset(r, l.ReducedShape, l.ReducedIn);
                for (int start = 0; start < n; start += Chunk)
                {
                    int len = Math.Min(Chunk, n - start);
                    var values = stride == 1
                        ? new ReadOnlySpan<T>(row + start, len)
                        : Gather(row + (nint)start * stride, stride, gathered[..len]);
                    tree.Push(TOp.Reduce(values, s, scratch[..len]));
                }
            }
            y[yo] = tree.Result();
        }
    }

    /// <summary>Items [itemStart, itemEnd) of (outer position, column chunk) pairs, in that order.</summary>
    private static void ReduceColumns<T, TOp>(ReduceLayout l, T* x, T* shift, T* y, int itemStart, int itemEnd)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        Span<T> gathered = stackalloc T[Chunk];
        Span<T> scratch = stackalloc T[Chunk];
        Span<T> accumulator = stackalloc T[Chunk];
        Span<T> shifts = stackalloc T[Chunk];
        int rows = l.ReducedCount, n = l.RowLength, si = l.RowIn, so = l.RowOut;

        // Beyond one block, blocks of rows are summed pairwise: slot 0 holds the current block, slot k + 1
        // the sum of 2^k earlier blocks.
        int blocks = (rows + BlockRows - 1) / BlockRows;
        int slots = blocks > 1 ? 2 + (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)blocks)) : 0;
        T[]? tree = slots > 0 ? ArrayPool<T>.Shared.Rent(slots * Chunk) : null;
        try
        {
            int perOuter = ColumnChunks(l);
            for (int item = itemStart; item < itemEnd; item++)
            {
                int o = item / perOuter, start = item % perOuter * Chunk;
                int xo = Offset(o, l.OuterShape, l.OuterIn), yo = Offset(o, l.OuterShape, l.OuterOut);
                int len = Math.Min(Chunk, n - start);
                var acc = so == 1 ? new Span<T>(y + yo + start, len) : accumulator[..len];
                ReadOnlySpan<T> sh = shift is null ? default
                    : so == 1 ? new ReadOnlySpan<T>(shift + yo + start, len)
                    : Gather(shift + yo + (nint)start * so, so, shifts[..len]);
                T* column = x + xo + (nint)start * si;
                if (tree is null)
                {
                    AccumulateRows<T, TOp>(l, column, si, 0, rows, sh, acc, gathered[..len], scratch[..len]);
                }
                else
                {
                    uint occupied = 0;
                    var current = tree.AsSpan(0, len);
                    for (int b = 0; b < blocks; b++)
                    {
                        int from = b * BlockRows;
                        AccumulateRows<T, TOp>(l, column, si, from, Math.Min(rows, from + BlockRows), sh, current, gathered[..len], scratch[..len]);
                        int k = 0;
                        for (; (occupied & (1u << k)) != 0; k++)
                        {
                            TOp.Combine(tree.AsSpan((k + 1) * Chunk, len), current);
                            occupied &= ~(1u << k);
                        }
                        current.CopyTo(tree.AsSpan((k + 1) * Chunk, len));
                        occupied |= 1u << k;
                    }
                    bool any = false;
                    for (int k = 0; k < 32; k++)
                    {
                        if ((occupied & (1u << k)) == 0) continue;
                        var level = tree.AsSpan((k + 1) * Chunk, len);
                        if (any) TOp.Combine(level, acc);
                        else level.CopyTo(acc);
                        any = true;
                    }
                }
                if (so != 1) Scatter<T>(acc, y + yo + (nint)start * so, so);
            }
        }
        finally
        {
            if (tree is not null) ArrayPool<T>.Shared.Return(tree);
        }
    }

    /// <summary>acc = map(row from) ⊕ ... ⊕ map(row to - 1), in row order.</summary>
    private static void AccumulateRows<T, TOp>(ReduceLayout l, T* column, int stride, int from, int to,
        ReadOnlySpan<T> shift, Span<T> acc, Span<T> gathered, Span<T> scratch)
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        TOp.Map(Row(l, column, stride, from, gathered), shift, acc);
        for (int r = from + 1; r < to; r++)
            TOp.Accumulate(Row(l, column, stride, r, gathered), shift, acc, scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<T> Row<T>(ReduceLayout l, T* column, int stride, int r, Span<T> gathered) where T : unmanaged
    {
        T* p = column + Offset(r, l.ReducedShape, l.ReducedIn);
        return stride == 1 ? new ReadOnlySpan<T>(p, gathered.Length) : Gather(p, stride, gathered);
    }

    private static void ArgRows<T, TOp>(ReduceLayout l, T* x, long* y)
        where T : unmanaged
        where TOp : IArgReduceOperator<T>
    {
        Span<T> gathered = stackalloc T[Chunk];
        int outer = l.OuterCount, rows = l.ReducedCount, n = l.RowLength, stride = l.RowIn;
        for (int o = 0; o < outer; o++)
        {
            int xo = Offset(o, l.OuterShape, l.OuterIn), yo = Offset(o, l.OuterShape, l.OuterOut);
            T best = default;
            long bestIndex = -1;
            for (int r = 0; r < rows; r++)
            {
                T* row = x + xo + Offset(r, l.ReducedShape, l.ReducedIn);
                for (int start = 0; start < n; start += Chunk)
                {
                    int len = Math.Min(Chunk, n - start);
                    var values = stride == 1
                        ? new ReadOnlySpan<T>(row + start, len)
                        : Gather(row + (nint)start * stride, stride, gathered[..len]);
                    int i = TOp.IndexOfBest(values);
                    if (bestIndex < 0 || TOp.Better(values[i], best))
                    {
                        best = values[i];
                        bestIndex = (long)r * n + start + i;
                    }
                }
            }
            y[yo] = bestIndex;
        }
    }

    private static void ArgColumns<T, TOp>(ReduceLayout l, T* x, long* y)
        where T : unmanaged
        where TOp : IArgReduceOperator<T>
    {
        Span<T> gathered = stackalloc T[Chunk];
        Span<T> bestValues = stackalloc T[Chunk];
        // The winning row of each column, as int32 (float, int32) or int64 (double, int64) bits in a T-sized slot,
        // so values and positions share vector lanes.
        Span<T> positions = stackalloc T[Chunk];
        int outer = l.OuterCount, rows = l.ReducedCount, n = l.RowLength, si = l.RowIn, so = l.RowOut;
        for (int o = 0; o < outer; o++)
        {
            int xo = Offset(o, l.OuterShape, l.OuterIn), yo = Offset(o, l.OuterShape, l.OuterOut);
            for (int start = 0; start < n; start += Chunk)
            {
                int len = Math.Min(Chunk, n - start);
                var best = bestValues[..len];
                var position = positions[..len];
                T* column = x + xo + (nint)start * si;
                Row(l, column, si, 0, gathered[..len]).CopyTo(best);
                position.Clear();
                for (int r = 1; r < rows; r++)
                    ArgStep<T, TOp>(Row(l, column, si, r, gathered[..len]), best, position, r);
                long* dst = y + yo + (nint)start * so;
                for (int j = 0; j < len; j++)
                    dst[(nint)j * so] = Unsafe.SizeOf<T>() == 4 ? Unsafe.As<T, int>(ref position[j]) : Unsafe.As<T, long>(ref position[j]);
            }
        }
    }

    /// <summary>Where row <paramref name="r"/>'s value beats the best so far, takes it and records r (vectorized, scalar tail).</summary>
    private static void ArgStep<T, TOp>(ReadOnlySpan<T> values, Span<T> best, Span<T> position, int r)
        where T : unmanaged
        where TOp : IArgReduceOperator<T>
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var row = Unsafe.SizeOf<T>() == 4 ? Vector256.Create(r).As<int, T>() : Vector256.Create((long)r).As<long, T>();
            ref T v = ref MemoryMarshal.GetReference(values);
            ref T b = ref MemoryMarshal.GetReference(best);
            ref T p = ref MemoryMarshal.GetReference(position);
            for (; j <= values.Length - Vector256<T>.Count; j += Vector256<T>.Count)
            {
                var candidate = Vector256.LoadUnsafe(ref v, (nuint)j);
                var current = Vector256.LoadUnsafe(ref b, (nuint)j);
                var wins = TOp.Better(candidate, current);
                Vector256.ConditionalSelect(wins, candidate, current).StoreUnsafe(ref b, (nuint)j);
                Vector256.ConditionalSelect(wins, row, Vector256.LoadUnsafe(ref p, (nuint)j)).StoreUnsafe(ref p, (nuint)j);
            }
        }
        for (; j < values.Length; j++)
        {
            if (!TOp.Better(values[j], best[j])) continue;
            best[j] = values[j];
            if (Unsafe.SizeOf<T>() == 4) Unsafe.As<T, int>(ref position[j]) = r;
            else Unsafe.As<T, long>(ref position[j]) = r;
        }
    }

    /// <summary>Element offset of flat position <paramref name="index"/> in a row-major walk of <paramref name="shape"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Offset(int index, int[] shape, int[] strides)
    {
        int offset = 0;
        for (int d = shape.Length - 1; d >= 0 && index > 0; d--)
        {
            int size = shape[d];
            offset += index % size * strides[d];
            index /= size;
        }
        return offset;
    }

    private static ReadOnlySpan<T> Gather<T>(T* p, int stride, Span<T> scratch) where T : unmanaged
    {
        for (int i = 0; i < scratch.Length; i++) scratch[i] = p[(nint)i * stride];
        return scratch;
    }

    private static void Scatter<T>(ReadOnlySpan<T> values, T* p, int stride) where T : unmanaged
    {
        for (int i = 0; i < values.Length; i++) p[(nint)i * stride] = values[i];
    }

    /// <summary>
    /// Combines partial results pairwise as they arrive (level k holds the result of 2^k partials), so
    /// n partials lose O(log n) roundings instead of O(n), in an order fixed by n alone.
    /// </summary>
    private ref struct PairwiseTree<T, TOp>
        where T : unmanaged
        where TOp : IReduceOperator<T>
    {
        private readonly Span<T> _levels;
        private uint _occupied;

        internal PairwiseTree(Span<T> levels)
        {
            _levels = levels;
            _occupied = 0;
        }

        internal void Push(T value)
        {
            int k = 0;
            for (; (_occupied & (1u << k)) != 0; k++)
            {
                value = TOp.Combine(_levels[k], value);
                _occupied &= ~(1u << k);
            }
            _levels[k] = value;
            _occupied |= 1u << k;
        }

        internal readonly T Result()
        {
            if (_occupied == 0) return TOp.Identity;
            return Fold(default, any: false);
        }

        /// <summary>
        /// The result when <paramref name="lower"/> is the combined value of partials below every level
        /// held (the sequential tree folds its lowest levels first).
        /// </summary>
        internal readonly T Result(T lower) => Fold(lower, any: true);

        private readonly T Fold(T result, bool any)
        {
            for (int k = 0; k < 32; k++)
            {
                if ((_occupied & (1u << k)) == 0) continue;
                result = any ? TOp.Combine(_levels[k], result) : _levels[k];
                any = true;
            }
            return result;
        }
    }
}
