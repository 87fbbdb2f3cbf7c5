using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The AVX2+FMA float32 microkernel: a 6×16 tile in 12 accumulator registers (plus two B vectors and
/// one broadcast A value: 15 of the 16 ymm registers). KC=256 keeps a 16-column B panel (16 KB) in L1.
/// </summary>
internal readonly unsafe struct Float32Vector256Kernel : IGemmMicroKernel<float>
{
    public static int MR => 6;
    public static int NR => 16;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 2048;

    /// <summary>The full 6×16 tile; never inlined, so the driver's loops around it keep their registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, GemmUpdate update, float beta)
        => Rows(6, kc, a, b, c, ldc, update, beta);

    /// <summary>
    /// Four or two rows of <see cref="Run"/>'s tile (the remainders of the power-of-two batch sizes
    /// 64, 256, 32, 128 over 6-row panels); other counts return false.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static bool RunRows(int kc, float* a, float* b, int rows, float* c, nint ldc, GemmUpdate update, float beta)
    {
        if (rows == 4) Rows(4, kc, a, b, c, ldc, update, beta);
        else if (rows == 2) Rows(2, kc, a, b, c, ldc, update, beta);
        else return false;
        return true;
    }

    /// <summary>
    /// The first <paramref name="rows"/> (2, 4 or 6) rows of the tile. Always inlined with a constant
    /// row count, so the JIT drops the unused accumulators and keeps the others in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows(int rows, int kc, float* a, float* b, float* c, nint ldc, GemmUpdate update, float beta)
    {
        Vector256<float> c00 = default, c01 = default;
        Vector256<float> c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default;
        Vector256<float> c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            if (rows > 2)
            {
                var a2 = Vector256.Create(a[2]);
                c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
                var a3 = Vector256.Create(a[3]);
                c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            }
            if (rows > 4)
            {
                var a4 = Vector256.Create(a[4]);
                c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
                var a5 = Vector256.Create(a[5]);
                c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            }
            a += 6;
            b += 16;
        }
        var betas = Vector256.Create(beta);
        UpdateRow(c, c00, c01, update, betas);
        UpdateRow(c + ldc, c10, c11, update, betas);
        if (rows > 2)
        {
            UpdateRow(c + 2 * ldc, c20, c21, update, betas);
            UpdateRow(c + 3 * ldc, c30, c31, update, betas);
        }
        if (rows > 4)
        {
            UpdateRow(c + 4 * ldc, c40, c41, update, betas);
            UpdateRow(c + 5 * ldc, c50, c51, update, betas);
        }
    }

    /// <summary>
    /// Row 0 of <see cref="Run"/>'s tile for each of <paramref name="panels"/> panels: four panels at a
    /// time (eight accumulators, enough to cover the FMA latency), then one at a time. a is an A panel
    /// (MR values per depth step, the first one used).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool RunRow(int kc, float* a, float* b, int panels, float* c, GemmUpdate update, float beta)
    {
        var betas = Vector256.Create(beta);
        nint stride = (nint)kc * 16;
        int q = 0;
        for (; q + 4 <= panels; q += 4)
        {
            float* b0 = b + q * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            float* ap = a;
            for (nint p = 0; p < (nint)kc * 16; p += 16, ap += 6)
            {
                var x = Vector256.Create(ap[0]);
                c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p), c00);
                c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p + 8), c01);
                c10 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + p), c10);
                c11 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + p + 8), c11);
                c20 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + p), c20);
                c21 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + p + 8), c21);
                c30 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + p), c30);
                c31 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + p + 8), c31);
            }
            float* row = c + q * 16;
            UpdateRow(row, c00, c01, update, betas);
            UpdateRow(row + 16, c10, c11, update, betas);
            UpdateRow(row + 32, c20, c21, update, betas);
            UpdateRow(row + 48, c30, c31, update, betas);
        }
        for (; q < panels; q++)
        {
            float* b0 = b + q * stride;
            Vector256<float> c00 = default, c01 = default;
            float* ap = a;
            for (nint p = 0; p < (nint)kc * 16; p += 16, ap += 6)
            {
                var x = Vector256.Create(ap[0]);
                c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p), c00);
                c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p + 8), c01);
            }
            UpdateRow(c + q * 16, c00, c01, update, betas);
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(float* c, Vector256<float> v0, Vector256<float> v1, GemmUpdate update, Vector256<float> beta)
    {
        if (update == GemmUpdate.Add)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        else if (update == GemmUpdate.Scale)
        {
            v0 = Vector256.FusedMultiplyAdd(Vector256.Load(c), beta, v0);
            v1 = Vector256.FusedMultiplyAdd(Vector256.Load(c + 8), beta, v1);
        }
        v0.Store(c);
        v1.Store(c + 8);
    }
}
