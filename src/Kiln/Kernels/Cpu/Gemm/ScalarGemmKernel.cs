using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The microkernel with no SIMD, for either float type: a 4×4 tile in 16 scalar accumulators. It is
/// the fallback where no vector width is accelerated, and the float64 kernel without AVX2.
/// </summary>
internal readonly unsafe struct ScalarGemmKernel<T> : IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 256;
    public static int MC => 96;
    public static int NC => 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, T* b, T* c, nint ldc, GemmUpdate update, T beta)
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero;
        T c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero;
        T c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (int p = 0; p < kc; p++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T a0 = a[0];
            c00 = T.MultiplyAddEstimate(a0, b0, c00);
            c01 = T.MultiplyAddEstimate(a0, b1, c01);
            c02 = T.MultiplyAddEstimate(a0, b2, c02);
            c03 = T.MultiplyAddEstimate(a0, b3, c03);
            T a1 = a[1];
            c10 = T.MultiplyAddEstimate(a1, b0, c10);
            c11 = T.MultiplyAddEstimate(a1, b1, c11);
            c12 = T.MultiplyAddEstimate(a1, b2, c12);
            c13 = T.MultiplyAddEstimate(a1, b3, c13);
            T a2 = a[2];
            c20 = T.MultiplyAddEstimate(a2, b0, c20);
            c21 = T.MultiplyAddEstimate(a2, b1, c21);
            c22 = T.MultiplyAddEstimate(a2, b2, c22);
            c23 = T.MultiplyAddEstimate(a2, b3, c23);
            T a3 = a[3];
            c30 = T.MultiplyAddEstimate(a3, b0, c30);
            c31 = T.MultiplyAddEstimate(a3, b1, c31);
            c32 = T.MultiplyAddEstimate(a3, b2, c32);
            c33 = T.MultiplyAddEstimate(a3, b3, c33);
            a += 4;
            b += 4;
        }
        UpdateRow(c, c00, c01, c02, c03, update, beta);
        UpdateRow(c + ldc, c10, c11, c12, c13, update, beta);
        UpdateRow(c + 2 * ldc, c20, c21, c22, c23, update, beta);
        UpdateRow(c + 3 * ldc, c30, c31, c32, c33, update, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(T* c, T v0, T v1, T v2, T v3, GemmUpdate update, T beta)
    {
        if (update == GemmUpdate.Add)
        {
            v0 += c[0];
            v1 += c[1];
            v2 += c[2];
            v3 += c[3];
        }
        else if (update == GemmUpdate.Scale)
        {
            v0 = T.MultiplyAddEstimate(c[0], beta, v0);
            v1 = T.MultiplyAddEstimate(c[1], beta, v1);
            v2 = T.MultiplyAddEstimate(c[2], beta, v2);
            v3 = T.MultiplyAddEstimate(c[3], beta, v3);
        }
        c[0] = v0;
        c[1] = v1;
        c[2] = v2;
        c[3] = v3;
    }
}
