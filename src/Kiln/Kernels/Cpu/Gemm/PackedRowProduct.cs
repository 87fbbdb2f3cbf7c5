using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// One row times a B packed whole for the Vector256 microkernel (<see cref="PackedGemmMatrix"/>): a
/// batch-1 layer against its prepacked weight, c = a·B (+ c). The blocked driver would first pack the
/// row into six-row A panels (five of them zeros) on the calling thread, then stream B; this reads the
/// row in place, so the threads start streaming B at once, each over its own contiguous range of
/// column panels (software prefetch measured 5% slower than the hardware's; 512-bit loads no faster:
/// the stream is bound by the cache's bandwidth). Each output is the chain the
/// driver's row kernel computes (a fused multiply-add chain over each KC block of the inner dimension,
/// blocks added in order), so the bits are the driver's whatever the thread count.
/// </summary>
internal static unsafe class PackedRowProduct
{
    private const int NR = 16;

    /// <summary>Below this many multiply-adds, waking threads costs more than it saves (the driver's threshold).</summary>
    private const long ParallelThreshold = 1L << 21;

    /// <summary>Whether <see cref="Multiply"/> computes this product: one plain row, Vector256 panels, beta 0 or 1.</summary>
    internal static bool Supports(bool transA, int m, PackedGemmMatrix b, float beta)
        => m == 1 && !transA && b.Tier == GemmTier.Vector256 && b.K > 0 && b.N > 0 && (beta == 0f || beta == 1f)
           && Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>c[j] = Σ_p a[p]·B[p, j] (+ c[j] when <paramref name="accumulate"/>) for j &lt; B.N.</summary>
    internal static void Multiply(float* a, PackedGemmMatrix b, float* c, bool accumulate, WorkerPool? pool)
    {
        var job = new RowJob(a, b.Data, b.K, b.N, c, accumulate);
        int panels = Ceil(b.N, NR);
        if (pool is null || (long)b.N * b.K < ParallelThreshold) job.Run(0, panels);
        else pool.For(panels, 2, ref job);
    }

    /// <summary>Column panels [start, end), KC block after KC block (the driver's cuts), each block's panels contiguous in B.</summary>
    private readonly struct RowJob(float* a, float* packed, int k, int n, float* c, bool accumulate) : IWorkerJob
    {
        public void Run(int start, int end) => Range(a, packed, k, n, c, accumulate, start, end);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Range(float* a, float* packed, int k, int n, float* c, bool accumulate, int start, int end)
    {
        int kcMax = Float32Vector256Kernel.KC, blocks = Ceil(k, kcMax), width = Ceil(n, NR) * NR;
        for (int block = 0; block < blocks; block++)
        {
            int pc = (int)((long)k * block / blocks), kc = (int)((long)k * (block + 1) / blocks) - pc;
            float* panels = packed + (nint)width * pc + (nint)start * NR * kc;
            Panels(kc, a + pc, panels, start, end, n, c, accumulate || block > 0);
        }
    }

    /// <summary>Panels [start, end) of one block: four at a time (eight accumulators cover the FMA latency), then one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panels(int kc, float* a, float* b, int start, int end, int n, float* c, bool add)
    {
        nint stride = (nint)kc * NR;
        int q = start;
        for (; q + 4 <= end && (q + 4) * NR <= n; q += 4, b += 4 * stride)
        {
            float* b0 = b, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            float* ap = a;
            for (nint p = 0; p < stride; p += NR, ap++)
            {
                var x = Vector256.Create(*ap);
                c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p), c00);
                c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p + 8), c01);
                c10 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + p), c10);
                c11 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + p + 8), c11);
                c20 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + p), c20);
                c21 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + p + 8), c21);
                c30 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + p), c30);
                c31 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + p + 8), c31);
            }
            float* row = c + (nint)q * NR;
            Update(row, c00, c01, add);
            Update(row + 16, c10, c11, add);
            Update(row + 32, c20, c21, add);
            Update(row + 48, c30, c31, add);
        }
        float* tile = stackalloc float[NR];
        for (; q < end; q++, b += stride)
        {
            Vector256<float> c00 = default, c01 = default;
            float* ap = a;
            for (nint p = 0; p < stride; p += NR, ap++)
            {
                var x = Vector256.Create(*ap);
                c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + p), c00);
                c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b + p + 8), c01);
            }
            float* row = c + (nint)q * NR;
            int cols = Math.Min(NR, n - q * NR);
            if (cols == NR)
            {
                Update(row, c00, c01, add);
                continue;
            }
            // The last, partial panel: as the driver merges an edge tile, only its real columns.
            c00.Store(tile);
            c01.Store(tile + 8);
            for (int j = 0; j < cols; j++) row[j] = add ? row[j] + tile[j] : tile[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> v0, Vector256<float> v1, bool add)
    {
        if (add)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        v0.Store(c);
        v1.Store(c + 8);
    }

    private static int Ceil(int x, int y) => (x + y - 1) / y;
}
