using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The AVX2+FMA float64 microkernel: a 4×8 tile in 8 accumulator registers. Float64 GEMM serves
/// gradient checks and small models, so one vector tier plus the scalar kernel is enough.
/// </summary>
internal readonly unsafe struct Float64Vector256Kernel : IGemmMicroKernel<double>
{
    public static int MR => 4;
    public static int NR => 8;
    public static int KC => 256;
    public static int MC => 96;
    public static int NC => 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, double* a, double* b, double* c, nint ldc, GemmUpdate update, double beta)
    {
        Vector256<double> c00 = default, c01 = default;
        Vector256<double> c10 = default, c11 = default;
        Vector256<double> c20 = default, c21 = default;
        Vector256<double> c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 4);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += 4;
            b += 8;
        }
        var betas = Vector256.Create(beta);
        UpdateRow(c, c00, c01, update, betas);
        UpdateRow(c + ldc, c10, c11, update, betas);
        UpdateRow(c + 2 * ldc, c20, c21, update, betas);
        UpdateRow(c + 3 * ldc, c30, c31, update, betas);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(double* c, Vector256<double> v0, Vector256<double> v1, GemmUpdate update, Vector256<double> beta)
    {
        if (update == GemmUpdate.Add)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 4);
        }
        else if (update == GemmUpdate.Scale)
        {
            v0 = Vector256.FusedMultiplyAdd(Vector256.Load(c), beta, v0);
            v1 = Vector256.FusedMultiplyAdd(Vector256.Load(c + 4), beta, v1);
        }
        v0.Store(c);
        v1.Store(c + 4);
    }
}
