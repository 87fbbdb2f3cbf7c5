using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// General matrix multiply on row-major matrices: C = op(A)·op(B) + beta·C, where op transposes
/// when asked. A is m×k (stored k×m when transposed), B is k×n (stored n×k when transposed);
/// lda, ldb, ldc are row strides in elements. Operands are packed into cache blocks and multiplied by
/// register-blocked SIMD microkernels (see <see cref="GemmDriver{T, TKernel}"/>); big problems run on
/// <see cref="WorkerPool.Shared"/> with results that do not depend on the thread count. With beta 0,
/// C is only written, so it may start uninitialized.
/// </summary>
internal static unsafe class GemmKernel
{
    /// <summary>
    /// The fastest microkernel family on this CPU: the widest the hardware accelerates, except on AMD
    /// Zen 4, which runs each 512-bit FMA as two 256-bit halves: there the Vector256 kernel measured
    /// 12-14% faster at 1024-2048 and 7% on (64x784)(784x256) (bench/results/2026-12-06-cpu.md).
    /// </summary>
    internal static GemmTier BestTier { get; } =
        Vector512.IsHardwareAccelerated && !SplitsWideVectors() ? GemmTier.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmTier.Vector256
        : Vector128.IsHardwareAccelerated ? GemmTier.Vector128
        : GemmTier.Scalar;

    /// <summary>True on an AMD family 19h (Zen 3/Zen 4) CPU, whose vector units are 256 bits wide.</summary>
    private static bool SplitsWideVectors()
    {
        if (!X86Base.IsSupported) return false;
        var (_, vendor1, vendor3, vendor2) = X86Base.CpuId(0, 0);
        bool amd = vendor1 == 0x68747541 && vendor2 == 0x69746E65 && vendor3 == 0x444D4163; // "AuthenticAMD"
        if (!amd) return false;
        int signature = X86Base.CpuId(1, 0).Eax;
        int family = (signature >> 8) & 0xF;
        if (family == 0xF) family += (signature >> 20) & 0xFF;
        return family == 0x19;
    }

    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float beta = 0f)
        => Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, beta, BestTier, WorkerPool.Shared);

    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        double* a, int lda, double* b, int ldb, double* c, int ldc, double beta = 0d)
        => Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, beta, BestTier, WorkerPool.Shared);

    /// <summary>
    /// The float32 GEMM with an explicit microkernel family (any tier runs anywhere, emulated where
    /// not accelerated, so tests can prove each) and pool (null: the calling thread only). A single
    /// row against the Vector256 family reads B unpacked (<see cref="UnpackedRowProduct"/>), with the same bits.
    /// </summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float beta, GemmTier tier, WorkerPool? pool)
    {
        CheckSizes(m, n, k);
        if (UnpackedRowProduct.Supports(tier, transA, m, n, k, beta))
        {
            UnpackedRowProduct.Multiply(transB, n, k, a, b, ldb, c, beta == 1f, pool);
            return;
        }
        var opA = new GemmOperand<float>(a, lda, transA);
        var opB = new GemmOperand<float>(b, ldb, transB);
        switch (tier)
        {
            case GemmTier.Vector512: GemmDriver<float, Float32Vector512Kernel>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool); break;
            case GemmTier.Vector256: GemmDriver<float, Float32Vector256Kernel>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool); break;
            case GemmTier.Vector128: GemmDriver<float, Float32Vector128Kernel>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool); break;
            default: GemmDriver<float, ScalarGemmKernel<float>>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool); break;
        }
    }

    /// <summary>
    /// C = op(A)·B + beta·C with B packed beforehand (m×B.N, inner dimension B.K), on B's microkernel
    /// family; the same bits as <see cref="Multiply(bool, bool, int, int, int, float*, int, float*, int, float*, int, float, GemmTier, WorkerPool?)"/>
    /// on the unpacked B with that tier and pool. A single row (batch-1 inference) goes to <see cref="PackedRowProduct"/>.
    /// </summary>
    internal static void MultiplyPacked(bool transA, int m, float* a, int lda, PackedGemmMatrix b, float* c, int ldc, float beta, WorkerPool? pool)
    {
        CheckSizes(m, b.N, b.K);
        if (PackedRowProduct.Supports(transA, m, b, beta))
        {
            PackedRowProduct.Multiply(a, b, c, beta == 1f, pool);
            return;
        }
        var opA = new GemmOperand<float>(a, lda, transA);
        var none = new GemmOperand<float>(null, 0, false);
        switch (b.Tier)
        {
            case GemmTier.Vector512: GemmDriver<float, Float32Vector512Kernel>.Multiply(opA, none, b.Data, m, b.N, b.K, c, ldc, beta, pool); break;
            case GemmTier.Vector256: GemmDriver<float, Float32Vector256Kernel>.Multiply(opA, none, b.Data, m, b.N, b.K, c, ldc, beta, pool); break;
            case GemmTier.Vector128: GemmDriver<float, Float32Vector128Kernel>.Multiply(opA, none, b.Data, m, b.N, b.K, c, ldc, beta, pool); break;
            default: GemmDriver<float, ScalarGemmKernel<float>>.Multiply(opA, none, b.Data, m, b.N, b.K, c, ldc, beta, pool); break;
        }
    }

    /// <summary>The float64 GEMM: the 256-bit kernel on the two vector tiers that have it, the scalar kernel otherwise.</summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        double* a, int lda, double* b, int ldb, double* c, int ldc, double beta, GemmTier tier, WorkerPool? pool)
    {
        CheckSizes(m, n, k);
        var opA = new GemmOperand<double>(a, lda, transA);
        var opB = new GemmOperand<double>(b, ldb, transB);
        if (tier is GemmTier.Vector256 or GemmTier.Vector512)
            GemmDriver<double, Float64Vector256Kernel>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool);
        else
            GemmDriver<double, ScalarGemmKernel<double>>.Multiply(opA, opB, m, n, k, c, ldc, beta, pool);
    }

    /// <summary>
    /// <paramref name="count"/> independent GEMMs of one shape (a batched matmul): problem i reads A at
    /// a + aOffsets[i] and B at b + bOffsets[i] and writes C at c + i·cStride. Many small problems are
    /// spread over the pool one whole problem per thread; big ones each use the pool themselves.
    /// </summary>
    internal static void MultiplyBatched<T>(int count, bool transA, bool transB, int m, int n, int k,
        T* a, nint* aOffsets, int lda, T* b, nint* bOffsets, int ldb, T* c, nint cStride, int ldc, T beta)
        where T : unmanaged
    {
        var job = new BatchJob<T>(transA, transB, m, n, k, a, aOffsets, lda, b, bOffsets, ldb, c, cStride, ldc, beta);
        long work = (long)m * n * k;
        if (count > 1 && work < BatchParallelThreshold && work * count >= BatchParallelThreshold)
            WorkerPool.Shared.For(count, Math.Max(1, (int)(BatchParallelThreshold / 4 / Math.Max(work, 1))), ref job);
        else
            job.Run(0, count, WorkerPool.Shared);
    }

    /// <summary>Problems smaller than this run whole on one thread when a batch can be spread instead.</summary>
    private const long BatchParallelThreshold = 1L << 21;

    private readonly struct BatchJob<T>(bool transA, bool transB, int m, int n, int k,
        T* a, nint* aOffsets, int lda, T* b, nint* bOffsets, int ldb, T* c, nint cStride, int ldc, T beta) : IWorkerJob
        where T : unmanaged
    {
        public void Run(int start, int end) => Run(start, end, null);

        internal void Run(int start, int end, WorkerPool? pool)
        {
            for (int i = start; i < end; i++)
            {
                if (typeof(T) == typeof(float))
                    Multiply(transA, transB, m, n, k, (float*)(a + aOffsets[i]), lda, (float*)(b + bOffsets[i]), ldb,
                        (float*)(c + i * cStride), ldc, Unsafe.BitCast<T, float>(beta), BestTier, pool);
                else if (typeof(T) == typeof(double))
                    Multiply(transA, transB, m, n, k, (double*)(a + aOffsets[i]), lda, (double*)(b + bOffsets[i]), ldb,
                        (double*)(c + i * cStride), ldc, Unsafe.BitCast<T, double>(beta), BestTier, pool);
                else
                    throw new NotSupportedException($"GEMM is defined for float and double, not {typeof(T).Name}");
            }
        }
    }

    private static void CheckSizes(int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must not be negative: m={m}, n={n}, k={k}");
    }
}
