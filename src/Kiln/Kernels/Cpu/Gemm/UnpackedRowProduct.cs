using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// One row times an unpacked B, c = a·op(B) (+ c): an eager layer at batch 1 against its weight. The
/// blocked driver packs all of B first (a 784×256 weight: 200K floats written and read back on every
/// call, most of a batch-1 MLP's time); this reads B where it lies. With B transposed (a Linear weight
/// [out, in]) eight rows of B are read eight values at a time and turned into eight column vectors by a
/// register transpose; otherwise eight columns are one vector load. Each output is the chain the
/// driver's row kernel computes (a fused multiply-add chain over each KC block of the inner dimension,
/// blocks added in order), so the bits are the driver's, and a compiled graph's, whatever the thread count.
/// </summary>
internal static unsafe class UnpackedRowProduct
{
    private const int Lanes = 8;

    /// <summary>
    /// Below this many multiply-adds the row runs on the calling thread, as the driver's products do: a
    /// woken worker that then spins through the serial work after it (a batch-1 backward pass) costs a
    /// two-core machine more than sharing 200K multiply-adds saves.
    /// </summary>
    private const long ParallelThreshold = 1L << 21;

    /// <summary>Whether <see cref="Multiply"/> computes this product: one plain row, the Vector256 tier's bits, beta 0 or 1.</summary>
    internal static bool Supports(GemmTier tier, bool transA, int m, int n, int k, float beta)
        => m == 1 && !transA && tier == GemmTier.Vector256 && n > 0 && k > 0 && (beta == 0f || beta == 1f)
           && Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx.IsSupported;

    /// <summary>c[j] = Σ_p a[p]·op(B)[p, j] (+ c[j] when <paramref name="accumulate"/>) for j &lt; n.</summary>
    internal static void Multiply(bool transB, int n, int k, float* a, float* b, int ldb, float* c, bool accumulate, WorkerPool? pool)
    {
        var job = new RowJob(transB, n, k, a, b, ldb, c, accumulate);
        int groups = (n + Lanes - 1) / Lanes;
        if (pool is null || (long)n * k < ParallelThreshold) job.Run(0, groups);
        else pool.For(groups, 8, ref job);
    }

    private readonly struct RowJob(bool transB, int n, int k, float* a, float* b, int ldb, float* c, bool accumulate) : IWorkerJob
    {
        public void Run(int start, int end) => Range(transB, n, k, a, b, ldb, c, accumulate, start, end);
    }

    /// <summary>Groups [start, end) of eight outputs, each summed over the driver's KC blocks in order.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Range(bool transB, int n, int k, float* a, float* b, int ldb, float* c, bool accumulate, int start, int end)
    {
        int blocks = (k + Float32Vector256Kernel.KC - 1) / Float32Vector256Kernel.KC;
        float* columns = stackalloc float[4 * Lanes * Lanes];
        var sums = stackalloc Vector256<float>[4];
        int group = start;
        // Four groups at a time: four independent chains hide the fused multiply-add's latency.
        for (; group + 4 <= end && (group + 4) * Lanes <= n; group += 4)
        {
            int j0 = group * Lanes;
            var t0 = accumulate ? Vector256.Load(c + j0) : Vector256<float>.Zero;
            var t1 = accumulate ? Vector256.Load(c + j0 + 8) : Vector256<float>.Zero;
            var t2 = accumulate ? Vector256.Load(c + j0 + 16) : Vector256<float>.Zero;
            var t3 = accumulate ? Vector256.Load(c + j0 + 24) : Vector256<float>.Zero;
            for (int block = 0; block < blocks; block++)
            {
                int p0 = (int)((long)k * block / blocks), p1 = (int)((long)k * (block + 1) / blocks);
                if (transB) RowsBlock4(a, b + (nint)j0 * ldb, ldb, p0, p1, columns, sums);
                else ColumnsBlock4(a, b + j0, ldb, p0, p1, sums);
                bool first = block == 0 && !accumulate;
                t0 = first ? sums[0] : t0 + sums[0];
                t1 = first ? sums[1] : t1 + sums[1];
                t2 = first ? sums[2] : t2 + sums[2];
                t3 = first ? sums[3] : t3 + sums[3];
            }
            Vector256.Store(t0, c + j0);
            Vector256.Store(t1, c + j0 + 8);
            Vector256.Store(t2, c + j0 + 16);
            Vector256.Store(t3, c + j0 + 24);
        }
        for (; group < end; group++)
        {
            int j0 = group * Lanes;
            if (j0 + Lanes > n)
            {
                for (int j = j0; j < n; j++) c[j] = Scalar(transB, k, blocks, a, b, ldb, j, accumulate ? c[j] : 0f, accumulate);
                continue;
            }
            var total = accumulate ? Vector256.Load(c + j0) : Vector256<float>.Zero;
            for (int block = 0; block < blocks; block++)
            {
                int p0 = (int)((long)k * block / blocks), p1 = (int)((long)k * (block + 1) / blocks);
                var sum = transB ? RowsBlock(a, b + (nint)j0 * ldb, ldb, p0, p1, columns) : ColumnsBlock(a, b + j0, ldb, p0, p1);
                total = block == 0 && !accumulate ? sum : total + sum;
            }
            Vector256.Store(total, c + j0);
        }
    }

    /// <summary>Σ over p in [p0, p1) of a[p]·B[j0 + lane, p] for rows of B <paramref name="ldb"/> apart: 8×8 blocks transposed through <paramref name="columns"/>.</summary>
    private static Vector256<float> RowsBlock(float* a, float* rows, int ldb, int p0, int p1, float* columns)
    {
        var sum = Vector256<float>.Zero;
        int p = p0;
        for (; p + Lanes <= p1; p += Lanes)
        {
            ImplicitGemmConvKernel.Transpose8(rows + p, ldb, columns, Lanes, Vector256<float>.Zero);
            for (int q = 0; q < Lanes; q++)
                sum = Fma.MultiplyAdd(Vector256.Create(a[p + q]), Vector256.Load(columns + q * Lanes), sum);
        }
        for (; p < p1; p++)
        {
            var column = Vector256.Create(rows[p], rows[ldb + p], rows[2 * ldb + p], rows[3 * ldb + p],
                rows[4 * ldb + p], rows[5 * ldb + p], rows[6 * ldb + p], rows[7 * ldb + p]);
            sum = Fma.MultiplyAdd(Vector256.Create(a[p]), column, sum);
        }
        return sum;
    }

    /// <summary><see cref="RowsBlock"/> for four groups of eight rows (32 rows of B) at once, into sums[0..3].</summary>
    private static void RowsBlock4(float* a, float* rows, int ldb, int p0, int p1, float* columns, Vector256<float>* sums)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        nint group = (nint)Lanes * ldb;
        int p = p0;
        for (; p + Lanes <= p1; p += Lanes)
        {
            for (int g = 0; g < 4; g++)
                ImplicitGemmConvKernel.Transpose8(rows + g * group + p, ldb, columns + g * Lanes * Lanes, Lanes, Vector256<float>.Zero);
            for (int q = 0; q < Lanes; q++)
            {
                var x = Vector256.Create(a[p + q]);
                float* column = columns + q * Lanes;
                s0 = Fma.MultiplyAdd(x, Vector256.Load(column), s0);
                s1 = Fma.MultiplyAdd(x, Vector256.Load(column + Lanes * Lanes), s1);
                s2 = Fma.MultiplyAdd(x, Vector256.Load(column + 2 * Lanes * Lanes), s2);
                s3 = Fma.MultiplyAdd(x, Vector256.Load(column + 3 * Lanes * Lanes), s3);
            }
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
        if (p == p1) return;
        // The block's last few steps, continuing each group's chain.
        for (int g = 0; g < 4; g++)
        {
            float* r = rows + g * group;
            var sum = sums[g];
            for (int q = p; q < p1; q++)
            {
                var column = Vector256.Create(r[q], r[ldb + q], r[2 * ldb + q], r[3 * ldb + q], r[4 * ldb + q], r[5 * ldb + q], r[6 * ldb + q], r[7 * ldb + q]);
                sum = Fma.MultiplyAdd(Vector256.Create(a[q]), column, sum);
            }
            sums[g] = sum;
        }
    }

    /// <summary><see cref="ColumnsBlock"/> for 32 columns at once, into sums[0..3].</summary>
    private static void ColumnsBlock4(float* a, float* columns, int ldb, int p0, int p1, Vector256<float>* sums)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int p = p0; p < p1; p++)
        {
            var x = Vector256.Create(a[p]);
            float* row = columns + (nint)p * ldb;
            s0 = Fma.MultiplyAdd(x, Vector256.Load(row), s0);
            s1 = Fma.MultiplyAdd(x, Vector256.Load(row + 8), s1);
            s2 = Fma.MultiplyAdd(x, Vector256.Load(row + 16), s2);
            s3 = Fma.MultiplyAdd(x, Vector256.Load(row + 24), s3);
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }

    /// <summary>Σ over p in [p0, p1) of a[p]·B[p, j0 + lane] for rows of B <paramref name="ldb"/> apart.</summary>
    private static Vector256<float> ColumnsBlock(float* a, float* columns, int ldb, int p0, int p1)
    {
        var sum = Vector256<float>.Zero;
        for (int p = p0; p < p1; p++)
            sum = Fma.MultiplyAdd(Vector256.Create(a[p]), Vector256.Load(columns + (nint)p * ldb), sum);
        return sum;
    }

    /// <summary>Output j alone (the last outputs past a multiple of eight), the same chain one lane at a time.</summary>
    private static float Scalar(bool transB, int k, int blocks, float* a, float* b, int ldb, int j, float start, bool accumulate)
    {
        float total = start;
        for (int block = 0; block < blocks; block++)
        {
            int p0 = (int)((long)k * block / blocks), p1 = (int)((long)k * (block + 1) / blocks);
            float sum = 0f;
            for (int p = p0; p < p1; p++)
                sum = MathF.FusedMultiplyAdd(a[p], transB ? b[(nint)j * ldb + p] : b[(nint)p * ldb + j], sum);
            total = block == 0 && !accumulate ? sum : total + sum;
        }
        return total;
    }
}
