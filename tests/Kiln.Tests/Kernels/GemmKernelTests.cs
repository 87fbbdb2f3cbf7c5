using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The packed GEMM against a naive float64 triple loop: odd sizes around the tile and cache block
/// edges, every transpose combination, beta 0/1/other, leading dimensions wider than the rows (the
/// gaps hold NaN, so reading outside an operand or writing outside C shows), each microkernel tier,
/// and bit-identical results whatever the thread count.
/// </summary>
public sealed unsafe class GemmKernelTests
{
    private static readonly int[] Sizes = [0, 1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 65, 100, 129, 257];

    /// <summary>Every size in every position at least once, paired with sizes spread over the list.</summary>
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        for (int i = 0; i < Sizes.Length; i++)
        {
            data.Add(Sizes[i], Sizes[(i + 5) % Sizes.Length], Sizes[(i + 11) % Sizes.Length]);
            data.Add(Sizes[(i + 3) % Sizes.Length], Sizes[i], Sizes[(i + 8) % Sizes.Length]);
            data.Add(Sizes[(i + 7) % Sizes.Length], Sizes[(i + 13) % Sizes.Length], Sizes[i]);
        }
        data.Add(257, 257, 257);
        data.Add(1, 1, 1);
        data.Add(6, 16, 256);
        data.Add(12, 32, 192);
        return data;
    }

    public static TheoryData<string> Tiers() => [.. Enum.GetNames<GemmTier>()];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_float32_matches_naive_loop_for_all_transposes_and_betas(int m, int n, int k)
    {
        foreach (var (transA, transB) in TransposeCombinations)
            foreach (var beta in new[] { 0f, 1f, 0.5f })
                CheckFloat(m, n, k, transA, transB, beta, GemmKernel.BestTier, WorkerPool.Shared, seed: m * 1000 + n * 10 + k);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Gemm_float32_every_tier_matches_naive_loop(string tierName)
    {
        var tier = Enum.Parse<GemmTier>(tierName);
        (int, int, int)[] shapes = [(1, 1, 1), (7, 13, 5), (33, 17, 65), (65, 33, 257), (100, 129, 31), (3, 40, 200), (0, 5, 3), (5, 0, 3), (5, 3, 0)];
        foreach (var (m, n, k) in shapes)
            foreach (var (transA, transB) in TransposeCombinations)
                foreach (var beta in new[] { 0f, 1f, -0.75f })
                    CheckFloat(m, n, k, transA, transB, beta, tier, null, seed: m + n + k);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Gemm_float64_matches_naive_loop(string tierName)
    {
        var tier = Enum.Parse<GemmTier>(tierName);
        (int, int, int)[] shapes = [(1, 1, 1), (2, 3, 4), (7, 13, 5), (33, 17, 65), (65, 33, 257), (100, 129, 31), (0, 4, 4), (4, 4, 0)];
        foreach (var (m, n, k) in shapes)
            foreach (var (transA, transB) in TransposeCombinations)
                foreach (var beta in new[] { 0d, 1d, 0.5d })
                    CheckDouble(m, n, k, transA, transB, beta, tier, m * 7 + k);
    }

    [Fact]
    public void Gemm_crosses_column_and_row_cache_blocks()
    {
        CheckFloat(7, 2100, 3, false, false, 0.5f, GemmKernel.BestTier, null, 1);
        CheckFloat(300, 20, 600, true, true, 1f, GemmKernel.BestTier, null, 2);
        CheckFloat(5, 4100, 9, false, true, 0f, GemmKernel.BestTier, new WorkerPool(2), 3);
    }

    [Fact]
    public void Gemm_with_beta_zero_overwrites_nan_in_c()
    {
        foreach (var (m, n, k) in new[] { (6, 16, 4), (7, 19, 3), (4, 5, 0) })
        {
            var a = Random(m * k, 1);
            var b = Random(k * n, 2);
            var c = new float[m * n];
            Array.Fill(c, float.NaN);
            fixed (float* pa = a, pb = b, pc = c)
                GemmKernel.Multiply(false, false, m, n, k, pa, k, pb, n, pc, n, 0f);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double expected = 0;
                    for (int p = 0; p < k; p++) expected += (double)a[i * k + p] * b[p * n + j];
                    Assert.True(Math.Abs(c[i * n + j] - expected) <= 1e-5, $"[{m}x{n}x{k}] C[{i},{j}] = {c[i * n + j]}, expected {expected}");
                }
        }
    }

    [Theory]
    [InlineData(300, 200, 300, false, false)]
    [InlineData(257, 190, 129, true, true)]
    [InlineData(5, 3000, 200, false, true)]
    [InlineData(2, 1000, 1100, true, false)]
    [InlineData(64, 300, 800, false, true)]
    public void Gemm_gives_identical_bits_for_any_thread_count(int m, int n, int k, bool transA, bool transB)
    {
        var a = Random(m * k, 10);
        var b = Random(k * n, 11);
        var start = Random(m * n, 12);
        float[] Run(WorkerPool? pool)
        {
            var c = (float[])start.Clone();
            fixed (float* pa = a, pb = b, pc = c)
                GemmKernel.Multiply(transA, transB, m, n, k, pa, transA ? m : k, pb, transB ? k : n, pc, n, 0.5f, GemmKernel.BestTier, pool);
            return c;
        }
        var inline = Run(null);
        foreach (var threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var result = Run(pool);
            for (int i = 0; i < inline.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(inline[i]) == BitConverter.SingleToInt32Bits(result[i]),
                    $"{threads} threads: element {i} is {result[i]:R}, single-threaded gave {inline[i]:R}");
        }
    }

    [Fact]
    public void Gemm_of_few_rows_crossing_column_chunks_and_depth_blocks_matches_naive_loop_at_any_thread_count()
    {
        // Few rows split by column ranges: each range crosses 256-column chunks and two KC blocks, so the
        // next block's prefetch runs over chunk and block ends; every transpose, on NaN-padded operands.
        foreach (var (m, n, k) in new[] { (13, 600, 300), (100, 530, 270) })
            foreach (var (transA, transB) in TransposeCombinations)
            {
                int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 3, ldc = n + 3;
                var a = Padded(transA ? k : m, transA ? m : k, lda, m + n);
                var b = Padded(transB ? n : k, transB ? k : n, ldb, n + k);
                var start = Padded(m, n, ldc, k);
                float[] Run(WorkerPool? pool)
                {
                    var c = (float[])start.Clone();
                    fixed (float* pa = a, pb = b, pc = c)
                        GemmKernel.Multiply(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, 0.5f, GemmKernel.BestTier, pool);
                    return c;
                }
                AssertSameBitsAtAnyThreadCount(Run, $"{m}x{n}x{k} transA={transA} transB={transB}");
                using var three = new WorkerPool(3);
                CheckFloat(m, n, k, transA, transB, 0.5f, GemmKernel.BestTier, three, seed: m * n + k);
            }
    }

    [Fact]
    public void Gemm_allocates_nothing_once_its_threads_are_warm()
    {
        const int m = 200, n = 150, k = 300;
        var a = Random(m * k, 20);
        var b = Random(k * n, 21);
        var c = new float[m * n];
        // A few rows against many columns takes the column-split path.
        var a2 = Random(800 * 3, 22);
        var b2 = Random(800 * 900, 23);
        var c2 = new float[3 * 900];
        using var pool = new WorkerPool(2);
        fixed (float* pa = a, pb = b, pc = c, pa2 = a2, pb2 = b2, pc2 = c2)
        {
            // Warm up, then look for a window of calls that allocates nothing. One window may still see
            // the runtime's own one-off work (a method re-jitted at a higher tier on a loaded machine);
            // a per-call allocation would show in every window.
            long fewest = long.MaxValue;
            for (int window = 0; window < 4 && fewest != 0; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 5; i++)
                {
                    GemmKernel.Multiply(false, true, m, n, k, pa, k, pb, k, pc, n, 0f, GemmKernel.BestTier, pool);
                    GemmKernel.Multiply(true, false, 3, 900, 800, pa2, 3, pb2, 900, pc2, 900, 1f, GemmKernel.BestTier, pool);
                }
                if (window > 0) fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, fewest);
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Gemm_with_prepacked_b_gives_the_bits_of_the_unpacked_product(string tierName)
    {
        var tier = Enum.Parse<GemmTier>(tierName);
        (int, int, int)[] shapes = [(1, 1, 1), (7, 13, 5), (33, 17, 65), (1, 300, 784), (65, 33, 257), (5, 2100, 9), (64, 200, 600)];
        using var pool = new WorkerPool(2);
        foreach (var (m, n, k) in shapes)
            foreach (var (transA, transB) in TransposeCombinations)
                foreach (var beta in new[] { 0f, 1f, 0.5f })
                    foreach (var threads in new WorkerPool?[] { null, pool })
                        CheckPackedSameBits(m, n, k, transA, transB, beta, tier, threads, seed: m * 31 + n + k);
    }

    [Fact]
    public void Gemm_with_prepacked_b_gives_identical_bits_for_any_thread_count()
    {
        // Few rows (column ranges) and many rows (row blocks), both crossing KC and MC blocks.
        foreach (var (m, n, k) in new[] { (64, 300, 800), (300, 90, 513) })
        {
            var a = Random(m * k, 30);
            var b = Random(k * n, 31);
            float[] Run(WorkerPool? pool)
            {
                var c = new float[m * n];
                fixed (float* pa = a, pb = b, pc = c)
                {
                    var packed = PackedGemmMatrix.Pack(false, k, n, pb, n, GemmKernel.BestTier);
                    GemmKernel.MultiplyPacked(false, m, pa, k, packed, pc, n, 0f, pool);
                }
                return c;
            }
            AssertSameBitsAtAnyThreadCount(Run, $"{m}x{n}x{k}");
        }
    }

    [Fact]
    public void Gemm_of_one_row_with_prepacked_b_gives_the_unpacked_bits_on_any_thread_count()
    {
        // The row path reads the row in place; odd widths leave a partial last panel, the widest crosses
        // the threading threshold and several KC blocks.
        var pools = new WorkerPool?[] { null, new WorkerPool(1), new WorkerPool(2), new WorkerPool(3) };
        try
        {
            foreach (var (n, k) in new[] { (1, 1), (15, 7), (17, 257), (100, 33), (64, 600), (1029, 2100) })
                foreach (var beta in new[] { 0f, 1f })
                    foreach (var pool in pools)
                        CheckPackedSameBits(1, n, k, false, true, beta, GemmTier.Vector256, pool, seed: n + k);
        }
        finally
        {
            foreach (var pool in pools) pool?.Dispose();
        }
    }

    [Fact]
    public void Gemm_of_one_row_gives_the_bits_of_that_row_in_a_taller_product()
    {
        // One row runs the row form of the microkernel; as the first row of 7 it runs in a full tile.
        foreach (var (n, k) in new[] { (67, 300), (16, 5), (130, 257), (5, 40) })
            foreach (var beta in new[] { 0f, 1f, 0.5f })
                foreach (var tier in Enum.GetValues<GemmTier>())
                {
                    var a = Random(7 * k, 40);
                    var b = Random(k * n, 41);
                    var start = Random(7 * n, 42);
                    var tall = (float[])start.Clone();
                    var single = start[..n];
                    fixed (float* pa = a, pb = b, pt = tall, ps = single)
                    {
                        GemmKernel.Multiply(false, false, 7, n, k, pa, k, pb, n, pt, n, beta, tier, null);
                        GemmKernel.Multiply(false, false, 1, n, k, pa, k, pb, n, ps, n, beta, tier, null);
                    }
                    for (int j = 0; j < n; j++)
                        Assert.True(BitConverter.SingleToInt32Bits(tall[j]) == BitConverter.SingleToInt32Bits(single[j]),
                            $"{tier} n={n} k={k} beta={beta}: C[0,{j}] is {single[j]:R} alone, {tall[j]:R} in 7 rows");
                }
    }

    [Fact]
    public void Gemm_of_a_partial_row_panel_gives_the_bits_of_those_rows_in_a_full_panel()
    {
        // 64 rows end in a 4-row panel and 32 in a 2-row one: those rows run the kernel's short form
        // (or a buffered tile), and must equal the same rows computed inside full 6-row panels.
        foreach (var rows in new[] { 4, 2, 5 })
            foreach (var (n, k) in new[] { (48, 300), (35, 17) })
                foreach (var tier in Enum.GetValues<GemmTier>())
                    foreach (var beta in tier == GemmTier.Vector256 ? new[] { 0f, 1f, 0.5f } : new[] { 0f, 1f })
                    {
                        var a = Random(12 * k, 50);
                        var b = Random(k * n, 51);
                        var start = Random(12 * n, 52);
                        var full = (float[])start.Clone();
                        var part = (float[])start.Clone();
                        fixed (float* pa = a, pb = b, pf = full, pp = part)
                        {
                            GemmKernel.Multiply(false, false, 12, n, k, pa, k, pb, n, pf, n, beta, tier, null);
                            GemmKernel.Multiply(false, false, 6 + rows, n, k, pa, k, pb, n, pp, n, beta, tier, null);
                        }
                        for (int i = 0; i < (6 + rows) * n; i++)
                            Assert.True(BitConverter.SingleToInt32Bits(full[i]) == BitConverter.SingleToInt32Bits(part[i]),
                                $"{tier} rows={6 + rows} n={n} k={k} beta={beta}: element {i} is {part[i]:R}, in 12 rows {full[i]:R}");
                    }
    }

    /// <summary>Runs a product alone and on pools of 2 and 3 threads; every element must have the same bits.</summary>
    private static void AssertSameBitsAtAnyThreadCount(Func<WorkerPool?, float[]> run, string what)
    {
        var inline = run(null);
        foreach (var threads in new[] { 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var result = run(pool);
            for (int i = 0; i < inline.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(inline[i]) == BitConverter.SingleToInt32Bits(result[i]),
                    $"{what}, {threads} threads: element {i} is {result[i]:R}, single-threaded gave {inline[i]:R}");
        }
    }

    /// <summary>The product with B packed first against the plain product, bit for bit, both on NaN-padded operands.</summary>
    private static void CheckPackedSameBits(int m, int n, int k, bool transA, bool transB, float beta, GemmTier tier, WorkerPool? pool, int seed)
    {
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 3, ldc = n + 3;
        var a = Padded(transA ? k : m, transA ? m : k, lda, seed);
        var b = Padded(transB ? n : k, transB ? k : n, ldb, seed + 1);
        var expected = Padded(m, n, ldc, seed + 2);
        var actual = (float[])expected.Clone();
        fixed (float* pa = a, pb = b, pe = expected, pc = actual)
        {
            GemmKernel.Multiply(transA, transB, m, n, k, pa, lda, pb, ldb, pe, ldc, beta, tier, pool);
            var packed = PackedGemmMatrix.Pack(transB, k, n, pb, ldb, tier);
            Assert.Equal((k, n, tier), (packed.K, packed.N, packed.Tier));
            GemmKernel.MultiplyPacked(transA, m, pa, lda, packed, pc, ldc, beta, pool);
        }
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{tier} m={m} n={n} k={k} transA={transA} transB={transB} beta={beta} threads={pool?.ThreadCount ?? 1}: element {i} is {actual[i]:R}, unpacked gave {expected[i]:R}");
    }

    [Fact]
    public void Gemm_rejects_negative_sizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmKernel.Multiply(false, false, -1, 2, 2, (float*)null, 2, (float*)null, 2, (float*)null, 2));
    }

    private static readonly (bool, bool)[] TransposeCombinations = [(false, false), (false, true), (true, false), (true, true)];

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return data;
    }

    /// <summary>
    /// Runs one GEMM on operands stored with 3 spare NaN columns per row and checks every element of C
    /// against the float64 sum within the standard float32 error bound (k+2)·u·(Σ|a·b| + |beta·c|),
    /// and that the spare columns of C are untouched.
    /// </summary>
    private static void CheckFloat(int m, int n, int k, bool transA, bool transB, float beta, GemmTier tier, WorkerPool? pool, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, lda = aCols + 3;
        int bRows = transB ? n : k, bCols = transB ? k : n, ldb = bCols + 3;
        int ldc = n + 3;
        var a = Padded(aRows, aCols, lda, seed);
        var b = Padded(bRows, bCols, ldb, seed + 1);
        var c = Padded(m, n, ldc, seed + 2);
        var c0 = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c)
            GemmKernel.Multiply(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, beta, tier, pool);
        string what = $"{tier} m={m} n={n} k={k} transA={transA} transB={transB} beta={beta}";
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                    magnitude += Math.Abs(x * y);
                }
                double prior = beta == 0 ? 0 : (double)beta * c0[i * ldc + j];
                double expected = sum + prior;
                double tolerance = (k + 2) * 6e-8 * (magnitude + Math.Abs(prior)) + 1e-30;
                double actual = c[i * ldc + j];
                Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what}: C[{i},{j}] = {actual:R}, expected {expected:R}");
            }
            for (int j = n; j < ldc; j++)
                Assert.True(float.IsNaN(c[i * ldc + j]), $"{what}: wrote outside C at [{i},{j}]");
        }
    }

    private static void CheckDouble(int m, int n, int k, bool transA, bool transB, double beta, GemmTier tier, int seed)
    {
        int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 2, ldc = n + 2;
        var rng = new Random(seed);
        var a = new double[(transA ? k : m) * lda];
        var b = new double[(transB ? n : k) * ldb];
        var c = new double[m * ldc];
        foreach (var array in new[] { a, b, c })
            for (int i = 0; i < array.Length; i++) array[i] = rng.NextDouble() * 2 - 1;
        var c0 = (double[])c.Clone();
        fixed (double* pa = a, pb = b, pc = c)
            GemmKernel.Multiply(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, beta, tier, null);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double expected = beta * c0[i * ldc + j];
                for (int p = 0; p < k; p++)
                    expected += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                Assert.True(Math.Abs(c[i * ldc + j] - expected) <= 1e-12 * (k + 1),
                    $"{tier} float64 m={m} n={n} k={k} transA={transA} transB={transB} beta={beta}: C[{i},{j}] = {c[i * ldc + j]:R}, expected {expected:R}");
            }
    }

    /// <summary>A rows×cols matrix of values in [-1, 1) with row stride ld; the spare columns are NaN.</summary>
    private static float[] Padded(int rows, int cols, int ld, int seed)
    {
        var rng = new Random(seed);
        var data = new float[Math.Max(rows * ld, 1)];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < ld; j++)
                data[r * ld + j] = j < cols ? (float)(rng.NextDouble() * 2 - 1) : float.NaN;
        return data;
    }
}
