using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// One row times an unpacked B (eager batch-1 layers): the same bits as the blocked driver's Vector256
/// path (which packs B), for B plain and transposed, beta 0 and 1, inner dimensions across KC blocks and
/// odd column counts, on the calling thread and on 2 and 3 threads; and within rounding of naive sums.
/// </summary>
public sealed unsafe class UnpackedRowProductTests
{
    private static float[] Random(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    [Theory]
    [InlineData(256, 784)]
    [InlineData(10, 64)]
    [InlineData(13, 7)]
    [InlineData(129, 513)]
    [InlineData(1, 300)]
    [InlineData(1000, 1)]
    [InlineData(33, 1025)]
    public void Row_product_has_the_drivers_bits_for_both_layouts_and_betas_on_any_thread_count(int n, int k)
    {
        if (!UnpackedRowProduct.Supports(GemmTier.Vector256, false, 1, n, k, 0f)) return;
        var rng = new Random(n * 31 + k);
        var a = Random(rng, k);
        var b = Random(rng, n * k + 3);
        var start = Random(rng, n);
        foreach (bool transB in new[] { true, false })
        foreach (float beta in new[] { 0f, 1f })
        {
            int ldb = transB ? k + 3 : n + 3;
            if ((long)(transB ? n : k) * ldb > b.Length) b = Random(rng, (transB ? n : k) * ldb);
            var expected = (float[])start.Clone();
            fixed (float* pa = a, pb = b, pe = expected)
            {
                var opA = new GemmOperand<float>(pa, k, false);
                var opB = new GemmOperand<float>(pb, ldb, transB);
                GemmDriver<float, Float32Vector256Kernel>.Multiply(opA, opB, 1, n, k, pe, n, beta, null);
            }
            for (int j = 0; j < n; j++)
            {
                double sum = beta * start[j];
                for (int p = 0; p < k; p++) sum += (double)a[p] * b[transB ? j * ldb + p : p * ldb + j];
                Assert.True(Math.Abs(sum - expected[j]) <= 1e-5 * k, $"driver: output {j} is {expected[j]}, expected {sum}");
            }
            foreach (int threads in new[] { 0, 2, 3 })
            {
                using var pool = threads == 0 ? null : new WorkerPool(threads);
                var actual = (float[])start.Clone();
                fixed (float* pa = a, pb = b, pc = actual)
                    UnpackedRowProduct.Multiply(transB, n, k, pa, pb, ldb, pc, accumulate: beta == 1f, pool);
                for (int j = 0; j < n; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[j]) == BitConverter.SingleToInt32Bits(actual[j]),
                        $"transB {transB}, beta {beta}, {threads} threads: output {j} is {actual[j]:R}, the driver gave {expected[j]:R}");
            }
        }
    }

    [Fact]
    public void Gemm_of_one_row_takes_the_row_product_and_keeps_the_drivers_bits()
    {
        if (!UnpackedRowProduct.Supports(GemmTier.Vector256, false, 1, 256, 784, 0f)) return;
        var rng = new Random(3);
        var a = Random(rng, 784);
        var w = Random(rng, 256 * 784);
        var expected = new float[256];
        var actual = new float[256];
        fixed (float* pa = a, pw = w, pe = expected, pc = actual)
        {
            GemmDriver<float, Float32Vector256Kernel>.Multiply(new GemmOperand<float>(pa, 784, false), new GemmOperand<float>(pw, 784, true), 1, 256, 784, pe, 256, 0f, WorkerPool.Shared);
            GemmKernel.Multiply(false, true, 1, 256, 784, pa, 784, pw, 784, pc, 256, 0f, GemmTier.Vector256, WorkerPool.Shared);
        }
        Assert.Equal(expected, actual);
    }
}
