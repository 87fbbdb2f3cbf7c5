using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The blocked GEMM loop nest around one microkernel (the Goto/BLIS scheme): for each NC-column
/// block of B and KC-deep slice, pack the B block once (it stays in L3), then for each MC-row block
/// of A pack it (it stays in L2) and sweep the register tiles, NR-column panel by panel (a panel
/// stays in L1). Big problems split MC-row blocks across the worker pool, or NR-column panels when
/// there are too few rows; every C tile is computed by one thread with the same KC slices in the same
/// order, so the result has the same bits whatever the thread count.
/// </summary>
internal static unsafe class GemmDriver<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : IGemmMicroKernel<T>
{
    /// <summary>Below this many multiply-adds, waking threads costs more than it saves.</summary>
    private const long ParallelThreshold = 1L << 21;

    internal static void Multiply(in GemmOperand<T> a, in GemmOperand<T> b, int m, int n, int k, T* c, int ldc, T beta, WorkerPool? pool)
        => Multiply(a, b, null, m, n, k, c, ldc, beta, pool);

    /// <summary>
    /// The product with B either read through <paramref name="b"/> and packed block by block, or, when
    /// <paramref name="packedB"/> is not null, already packed whole by <see cref="PackWhole"/> (then
    /// <paramref name="b"/> is not read). The same tiles see the same panels, so both give the same bits.
    /// </summary>
    internal static void Multiply(in GemmOperand<T> a, in GemmOperand<T> b, T* packedB, int m, int n, int k, T* c, int ldc, T beta, WorkerPool? pool)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ScaleOnly(c, ldc, m, n, beta);
            return;
        }
        int threads = pool is null || (long)m * n * k < ParallelThreshold ? 1 : pool.ThreadCount;
        var first = beta == T.Zero ? GemmUpdate.Store : beta == T.One ? GemmUpdate.Add : GemmUpdate.Scale;
        if (threads > 1 && Ceil(m, TKernel.MC) < 2 * threads && pool!.Parts(Ceil(n, TKernel.NR), 2) > 1)
            SplitColumnRanges(a, b, packedB, m, n, k, c, ldc, beta, first, pool);
        else if (threads == 1 && m > 1 && m <= TKernel.MC && n > ChunkColumns)
            SplitColumnRanges(a, b, packedB, m, n, k, c, ldc, beta, first, null);
        else
            SplitRows(a, b, packedB, m, n, k, c, ldc, beta, first, threads > 1 ? pool : null);
    }

    /// <summary>Elements <see cref="PackWhole"/> writes for a k×n B: every KC block of depth, all columns in NR-column panels.</summary>
    internal static long PackedWholeLength(int k, int n) => (long)k * Ceil(n, TKernel.NR) * TKernel.NR;

    /// <summary>
    /// All of op(B) packed as the driver's blocks read it: KC block after KC block (the same cuts as
    /// <see cref="BlockStart"/>), each holding every NR-column panel, so block pc starts at
    /// pc·(n rounded up to NR) and the panel of column j at j·kc within it.
    /// </summary>
    internal static void PackWhole(in GemmOperand<T> b, int k, int n, T* dest)
    {
        int blocks = Ceil(k, TKernel.KC), width = Ceil(n, TKernel.NR) * TKernel.NR;
        for (int block = 0; block < blocks; block++)
        {
            int pc = BlockStart(k, blocks, block), kc = BlockStart(k, blocks, block + 1) - pc;
            GemmPacking<T>.PackB<TKernel>(b, 0, n, pc, kc, dest + (nint)width * pc);
        }
    }

    /// <summary>The packed block of columns from <paramref name="jc"/> (a multiple of NR) at depth <paramref name="pc"/> of a whole packed B.</summary>
    private static T* WholeBlock(T* packedB, int n, int jc, int pc, int kc)
        => packedB + (nint)Ceil(n, TKernel.NR) * TKernel.NR * pc + (nint)jc * kc;

    /// <summary>
    /// For a few hundred rows against many columns (a layer's batch against its weights): all of A is
    /// packed once, in parallel, then each thread takes one contiguous range of NR-column panels and
    /// packs its own B blocks. Two hand-offs per call instead of two per B block, and column panels
    /// share out evenly where MC-row blocks would not. Alone (<paramref name="pool"/> null) it serves
    /// products of at most MC rows (but more than one, the batch-1 path), whose B blocks are then
    /// prefetched chunk by chunk instead of packed NC columns wide past the L2 (64x1024x3136 alone:
    /// 5.4 -> 4.5 ms of CPU time).
    /// </summary>
    private static void SplitColumnRanges(in GemmOperand<T> a, in GemmOperand<T> b, T* wholeB, int m, int n, int k, T* c, int ldc, T beta, GemmUpdate first, WorkerPool? pool)
    {
        int rowPanels = Ceil(m, TKernel.MR), blocks = Ceil(k, TKernel.KC);
        T* packedA = GemmScratch<T>.PackedAll((long)rowPanels * TKernel.MR * k);
        var pack = new PackAllAJob(a, m, k, rowPanels, packedA);
        var job = new ColumnRangeJob(b, wholeB, packedA, m, n, k, c, ldc, first, beta);
        if (pool is null)
        {
            pack.Run(0, blocks * rowPanels);
            job.Run(0, Ceil(n, TKernel.NR));
            return;
        }
        pool.For(blocks * rowPanels, 8, ref pack);
        pool.For(Ceil(n, TKernel.NR), 2, ref job);
    }

    /// <summary>Items are (KC block, MR-row panel) pairs; block pc of A goes at pc·rowPanels·MR, as <see cref="ColumnRangeJob"/> reads it.</summary>
    private readonly struct PackAllAJob(GemmOperand<T> a, int m, int k, int rowPanels, T* packedA) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                int block = item / rowPanels, panel = item - block * rowPanels;
                int blocks = Ceil(k, TKernel.KC);
                int pc = BlockStart(k, blocks, block), kc = BlockStart(k, blocks, block + 1) - pc, i0 = panel * TKernel.MR;
                T* dest = packedA + (nint)rowPanels * TKernel.MR * pc + (nint)panel * TKernel.MR * kc;
                GemmPacking<T>.PackA<TKernel>(a, i0, Math.Min(TKernel.MR, m - i0), pc, kc, dest);
            }
        }
    }

    /// <summary>Column panels [start, end) of C, each thread's own range: see <see cref="ColumnRange"/>.</summary>
    private readonly struct ColumnRangeJob(GemmOperand<T> b, T* wholeB, T* packedA, int m, int n, int k, T* c, int ldc, GemmUpdate first, T beta) : IWorkerJob
    {
        public void Run(int start, int end) => ColumnRange(b, wholeB, packedA, m, n, k, c, ldc, first, beta, start, end);
    }

    /// <summary>
    /// Columns of C one column range packs and multiplies at a time: the packed B block, the stored
    /// rows of the next block being prefetched, packed A's block and the C chunk share the L2.
    /// </summary>
    private static int ChunkColumns => Math.Max(TKernel.NR, 256 / TKernel.NR * TKernel.NR);

    /// <summary>
    /// Column panels [start, end) of C against all of packed A: chunk by chunk of
    /// <see cref="ChunkColumns"/>, KC block by KC block, B packed into this thread's buffer (or read
    /// from a whole packed B). While one block is multiplied, the stored rows of B the next block packs
    /// are prefetched into L2, a few lines per tile, so packing reads cache instead of waiting on memory
    /// with the FMA units idle (it was ~20% of a product whose B is read from memory, 3136x1024).
    /// Never inlined: its loop nest inside the pool's job overran the JIT's inlining budget.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ColumnRange(in GemmOperand<T> b, T* wholeB, T* packedA, int m, int n, int k, T* c, int ldc, GemmUpdate first, T beta, int start, int end)
    {
        int chunk = ChunkColumns;
        T* packedB = wholeB is null ? GemmScratch<T>.PackedB(TKernel.KC * chunk) : null;
        int rowPanels = Ceil(m, TKernel.MR), blocks = Ceil(k, TKernel.KC), last = Math.Min(n, end * TKernel.NR);
        for (int jc = start * TKernel.NR; jc < last; jc += chunk)
        {
            int nc = Math.Min(chunk, last - jc);
            for (int block = 0; block < blocks; block++)
            {
                int pc = BlockStart(k, blocks, block), kc = BlockStart(k, blocks, block + 1) - pc;
                T* panels = packedB;
                var ahead = default(GemmStoredRows<T>);
                if (wholeB is null)
                {
                    GemmPacking<T>.PackB<TKernel>(b, jc, nc, pc, kc, packedB);
                    int nextJc = block + 1 < blocks ? jc : jc + chunk, nextBlock = block + 1 < blocks ? block + 1 : 0;
                    if (nextJc < last)
                    {
                        int nextPc = BlockStart(k, blocks, nextBlock);
                        ahead = GemmStoredRows<T>.Of(b, nextJc, Math.Min(chunk, last - nextJc), nextPc, BlockStart(k, blocks, nextBlock + 1) - nextPc);
                    }
                }
                else panels = WholeBlock(wholeB, n, jc, pc, kc);
                Tiles(packedA + (nint)rowPanels * TKernel.MR * pc, panels, m, nc, kc, c + jc, ldc, pc == 0 ? first : GemmUpdate.Add, beta, ahead);
            }
        }
    }

    /// <summary>The main scheme: B blocks packed once and shared, MC-row blocks of A spread over the threads.</summary>
    private static void SplitRows(in GemmOperand<T> a, in GemmOperand<T> b, T* wholeB, int m, int n, int k, T* c, int ldc, T beta, GemmUpdate first, WorkerPool? pool)
    {
        // Row blocks are cut on MR-row panel boundaries. Alone: MC rows each. On the pool: a multiple of
        // the thread count of blocks whose sizes differ by at most one panel, so every thread's share
        // is within a panel of the others' (MC-row blocks left 1024 rows as 528 + 496 on 2 threads).
        int panels = Ceil(m, TKernel.MR);
        int blocks = Ceil(m, TKernel.MC);
        if (pool is not null)
            blocks = Math.Min(panels, Ceil(Math.Max(blocks, pool.ThreadCount), pool.ThreadCount) * pool.ThreadCount);
        else
            panels = -1;
        T* packedB = wholeB is null ? GemmScratch<T>.PackedB(TKernel.KC * TKernel.NC) : null;
        for (int jc = 0; jc < n; jc += TKernel.NC)
        {
            int nc = Math.Min(TKernel.NC, n - jc);
            for (int depth = 0, depths = Ceil(k, TKernel.KC); depth < depths; depth++)
            {
                int pc = BlockStart(k, depths, depth), kc = BlockStart(k, depths, depth + 1) - pc;
                var pack = new PackBJob(b, jc, nc, pc, kc, packedB);
                var rows = new RowBlocksJob(a, wholeB is null ? packedB : WholeBlock(wholeB, n, jc, pc, kc), m, panels, blocks, nc, pc, kc, c + jc, ldc, pc == 0 ? first : GemmUpdate.Add, beta);
                if (pool is null)
                {
                    if (wholeB is null) pack.Run(0, Ceil(nc, TKernel.NR));
                    rows.Run(0, blocks);
                }
                else
                {
                    if (wholeB is null) pool.For(Ceil(nc, TKernel.NR), 8, ref pack);
                    pool.For(blocks, 1, ref rows);
                }
            }
        }
    }

    /// <summary>Packs NR-column panels [start, end) of one B block.</summary>
    private readonly struct PackBJob(GemmOperand<T> b, int jc, int nc, int pc, int kc, T* packedB) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int j0 = start * TKernel.NR;
            int cols = Math.Min(nc, end * TKernel.NR) - j0;
            GemmPacking<T>.PackB<TKernel>(b, jc + j0, cols, pc, kc, packedB + (nint)j0 * kc);
        }
    }

    /// <summary>
    /// Row blocks [start, end) of C against one packed B block: each packs its A block into its thread's
    /// buffer. With <paramref name="panels"/> negative, block b is rows [b·MC, (b+1)·MC); otherwise the
    /// MR-row panels are shared out equally over <paramref name="blocks"/> blocks (at most MC + MR rows each).
    /// </summary>
    private readonly struct RowBlocksJob(GemmOperand<T> a, T* packedB, int m, int panels, int blocks, int nc, int pc, int kc, T* c, int ldc, GemmUpdate update, T beta) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            T* packedA = GemmScratch<T>.PackedA((TKernel.MC + TKernel.MR) * TKernel.KC);
            for (int block = start; block < end; block++)
            {
                int i0 = panels < 0 ? block * TKernel.MC : TKernel.MR * BlockStart(panels, blocks, block);
                int i1 = panels < 0 ? i0 + TKernel.MC : TKernel.MR * BlockStart(panels, blocks, block + 1);
                int rows = Math.Min(i1, m) - i0;
                GemmPacking<T>.PackA<TKernel>(a, i0, rows, pc, kc, packedA);
                Tiles(packedA, packedB, rows, nc, kc, c + (nint)i0 * ldc, ldc, update, beta);
            }
        }
    }

    /// <summary>
    /// One packed A block times one packed B block into C: NR-column panels outside (the B panel stays
    /// in L1), MR-row panels inside. Partial tiles at the right and bottom edges go through a small
    /// buffer, so the microkernel always runs a full tile, except a bottom tile whose row count the
    /// kernel has a form for (<see cref="IGemmMicroKernel{T}.RunRows"/>). After each tile, an equal share of the lines
    /// of <paramref name="ahead"/> (the source of the next B block) is prefetched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles(T* packedA, T* packedB, int mc, int nc, int kc, T* c, int ldc, GemmUpdate update, T beta, GemmStoredRows<T> ahead = default)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int perTile = ahead.Rows == 0 ? 0 : (int)Math.Min(int.MaxValue, Ceil(ahead.Lines, (long)Ceil(nc, nr) * Ceil(mc, mr)));
        int aheadRow = 0, aheadLine = 0;
        T* tile = stackalloc T[mr * nr];
        int start = 0;
        // A single row (batch-1 inference) skips the tile's zero rows; Scale stays on tiles, whose edge merge may round differently.
        if (mc == 1 && nc >= nr && update != GemmUpdate.Scale && TKernel.RunRow(kc, packedA, packedB, nc / nr, c, update, beta))
            start = nc / nr * nr;
        for (int jr = start; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            T* bPanel = packedB + (nint)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                T* aPanel = packedA + (nint)ir * kc;
                T* cTile = c + (nint)ir * ldc + jr;
                if (rows == mr && cols == nr)
                {
                    TKernel.Run(kc, aPanel, bPanel, cTile, ldc, update, beta);
                }
                else if (cols == nr && TKernel.RunRows(kc, aPanel, bPanel, rows, cTile, ldc, update, beta))
                {
                }
                else
                {
                    TKernel.Run(kc, aPanel, bPanel, tile, nr, GemmUpdate.Store, beta);
                    Merge(tile, nr, cTile, ldc, rows, cols, update, beta);
                }
                if (perTile > 0) ahead.Prefetch(ref aheadRow, ref aheadLine, perTile);
            }
        }
    }

    private static void Merge(T* tile, int nr, T* c, int ldc, int rows, int cols, GemmUpdate update, T beta)
    {
        for (int i = 0; i < rows; i++)
        {
            T* t = tile + (nint)i * nr;
            T* row = c + (nint)i * ldc;
            for (int j = 0; j < cols; j++)
            {
                row[j] = update switch
                {
                    GemmUpdate.Store => t[j],
                    GemmUpdate.Add => row[j] + t[j],
                    _ => T.MultiplyAddEstimate(row[j], beta, t[j]),
                };
            }
        }
    }

    /// <summary>C = beta·C for an empty inner dimension; beta 0 clears C even where it held NaN.</summary>
    private static void ScaleOnly(T* c, int ldc, int m, int n, T beta)
    {
        if (beta == T.One) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (nint)i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    private static int Ceil(int x, int y) => (x + y - 1) / y;

    private static long Ceil(long x, long y) => (x + y - 1) / y;

    /// <summary>
    /// Start of KC block <paramref name="block"/> of <paramref name="blocks"/> equal blocks of the inner
    /// dimension: 784 splits as 4 × 196, not 3 × 256 + 16, whose thin last block would pay a full
    /// C-tile load and store for a few steps. The cut depends only on k.
    /// </summary>
    private static int BlockStart(int k, int blocks, int block) => (int)((long)k * block / blocks);
}
