using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// General matrix multiply on row-major matrices: C = op(A)·op(B) + beta·C, where op transposes
/// when asked. A is m×k (stored k×m when transposed), B is k×n (stored n×k when transposed);
/// lda, ldb, ldc are row strides in elements.
/// </summary>
internal static unsafe class GemmKernel
{
    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float beta = 0f)
    {
        var arow = transB ? new float[k] : [];
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (nint)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
            if (!transB)
            {
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[(nint)p * lda + i] : a[(nint)i * lda + p];
                    if (av == 0f) continue;
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (nint)p * ldb, n), av, row, row);
                }
            }
            else
            {
                for (int p = 0; p < k; p++) arow[p] = transA ? a[(nint)p * lda + i] : a[(nint)i * lda + p];
                for (int j = 0; j < n; j++)
                    row[j] += TensorPrimitives.Dot(arow, new ReadOnlySpan<float>(b + (nint)j * ldb, k));
            }
        }
    }

    internal static void Multiply(bool transA, bool transB, int m, int n, int k,
        double* a, int lda, double* b, int ldb, double* c, int ldc, double beta = 0d)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<double>(c + (nint)i * ldc, n);
            if (beta == 0d) row.Clear();
            else if (beta != 1d) TensorPrimitives.Multiply(row, beta, row);
            for (int p = 0; p < k; p++)
            {
                double av = transA ? a[(nint)p * lda + i] : a[(nint)i * lda + p];
                if (av == 0d) continue;
                if (!transB)
                {
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(b + (nint)p * ldb, n), av, row, row);
                }
                else
                {
                    for (int j = 0; j < n; j++) row[j] += av * b[(nint)j * ldb + p];
                }
            }
        }
    }
}
