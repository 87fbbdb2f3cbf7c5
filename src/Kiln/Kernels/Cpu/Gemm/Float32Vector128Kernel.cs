using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The portable float32 microkernel for 128-bit SIMD (SSE, NEON): a 4×8 tile in 8 accumulators.
/// Multiply-add is fused where the hardware has FMA and separate otherwise, so no path is emulated.
/// </summary>
internal readonly unsafe struct Float32Vector128Kernel : IGemmMicroKernel<float>
{
    public static int MR => 4;
    public static int NR => 8;
    public static int KC => 256;
    public static int MC => 144;
    public static int NC => 2048;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, GemmUpdate update, float beta)
    {
        Vector128<float> c00 = default, c01 = default;
        Vector128<float> c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
            var a1 = Vector128.Create(a[1]);
            c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
            var a2 = Vector128.Create(a[2]);
            c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
            var a3 = Vector128.Create(a[3]);
            c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
            a += 4;
            b += 8;
        }
        var betas = Vector128.Create(beta);
        UpdateRow(c, c00, c01, update, betas);
        UpdateRow(c + ldc, c10, c11, update, betas);
        UpdateRow(c + 2 * ldc, c20, c21, update, betas);
        UpdateRow(c + 3 * ldc, c30, c31, update, betas);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(float* c, Vector128<float> v0, Vector128<float> v1, GemmUpdate update, Vector128<float> beta)
    {
        if (update == GemmUpdate.Add)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }
        else if (update == GemmUpdate.Scale)
        {
            v0 = Vector128.MultiplyAddEstimate(Vector128.Load(c), beta, v0);
            v1 = Vector128.MultiplyAddEstimate(Vector128.Load(c + 4), beta, v1);
        }
        v0.Store(c);
        v1.Store(c + 4);
    }
}
