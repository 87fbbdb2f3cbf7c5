using System.Numerics.Tensors;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The pooled kernels give the same bits on 1, 2 and 3 workers (and, where a kernel splits its work
/// into fixed pieces, the same bits as the single-pass algorithm): elementwise loops (dense and
/// strided), softmax and its backward, cross entropy, batch norm, reductions and average pooling.
/// The sizes are just above the point where the work is split, so each kernel really goes parallel.
/// </summary>
public sealed unsafe class ThreadCountKernelTests
{
    private static readonly int[] ThreadCounts = [2, 3];

    private static float[] Random(int seed, int count, float low = -2, float high = 2)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = low + (high - low) * (float)rng.NextDouble();
        return values;
    }

    /// <summary>Runs <paramref name="compute"/> on a one-thread pool and on larger ones and asserts every result is the same bits.</summary>
    private static void AssertSameForAnyThreadCount(Func<WorkerPool, float[]> compute)
    {
        float[] expected;
        using (var one = new WorkerPool(1)) expected = compute(one);
        foreach (int threads in ThreadCounts)
        {
            using var pool = new WorkerPool(threads);
            var actual = compute(pool);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{threads} threads: element {i} is {actual[i]:R}, one thread gave {expected[i]:R}");
        }
    }

    /// <summary>The sizes below are chosen to be split: a loop this large is shared between participants.</summary>
    private static void AssertSplit(long elements) => Assert.True(elements >= 2 * ElementwiseLoop.MinShare, $"{elements} elements run inline");

    private readonly struct Exp : IUnarySpanOperator<float, float>
    {
        public static void Invoke(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Exp(x, d);
    }

    private readonly struct Subtract : IBinarySpanOperator<float, float>
    {
        public static void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
        public static void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
        public static void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    }

    [Fact]
    public void Dense_elementwise_loops_give_the_single_call_result_on_any_thread_count()
    {
        int n = 3 * ElementwiseLoop.MinShare + 37;
        var x = Random(1, n);
        var b = Random(2, n);
        var whole = new float[n];
        TensorPrimitives.Exp(x, whole);
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[n];
            fixed (float* px = x, py = y) ElementwiseLoop.DenseUnary<float, float, Exp>(px, py, n, pool);
            Assert.Equal(whole, y);
            return y;
        });
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[n];
            fixed (float* px = x, pb = b, py = y) ElementwiseLoop.DenseBinary<float, float, Subtract>(px, pb, py, n, false, true, pool);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] - b[0], y[i]);
            return y;
        });
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[n];
            fixed (float* px = x, py = y) ElementwiseLoop.DenseUnary(px, py, n, new ReluOperator<float>(), pool);
            for (int i = 0; i < n; i++) Assert.Equal(Math.Max(x[i], 0), y[i]);
            return y;
        });
    }

    [Theory]
    [InlineData(600, 257)]      // many short rows, broadcast row operand
    [InlineData(4, 40000)]      // a few long rows: split inside the rows
    public void Strided_elementwise_loops_give_identical_bits_on_any_thread_count(int rows, int length)
    {
        AssertSplit((long)rows * length);
        var a = Random(3, rows * length);
        var row = Random(4, length);
        var layout = StridedLayout.Create([rows, length], [length, 1], ([rows, length], [length, 1]), ([length], [1]));
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[rows * length];
            fixed (float* pa = a, pr = row, py = y) ElementwiseLoop.Binary<float, float, Subtract>(layout, pa, pr, py, pool);
            for (int r = 0; r < rows; r += 7)
                for (int i = 0; i < length; i += 13) Assert.Equal(a[r * length + i] - row[i], y[r * length + i]);
            return y;
        });
        // A transposed output (scattered writes) through the unary loop.
        var transposed = StridedLayout.Create([rows, length], [1, rows], ([rows, length], [length, 1]));
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[rows * length];
            fixed (float* pa = a, py = y) ElementwiseLoop.Unary<float, float, Exp>(transposed, pa, py, pool);
            Assert.Equal(MathF.Exp(a[length + 5]), y[5 * rows + 1], 5);
            return y;
        });
    }

    [Theory]
    [InlineData(300, 1000, false)]
    [InlineData(300, 1000, true)]
    [InlineData(14000, 10, true)]
    public void Softmax_and_its_backward_give_identical_bits_on_any_thread_count(int rows, int n, bool log)
    {
        AssertSplit((long)rows * n);
        var x = Random(5, rows * n, -4, 4);
        var g = Random(6, rows * n);
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[x.Length];
            var dx = new float[x.Length];
            fixed (float* px = x, py = y, pg = g, pdx = dx)
            {
                SoftmaxKernel.Forward([rows, n], [n, 1], [n, 1], 1, px, py, log, pool);
                SoftmaxKernel.Backward(rows, n, 1, pg, py, pdx, log, pool);
            }
            return [.. y, .. dx];
        });
    }

    [Fact]
    public void Cross_entropy_gives_identical_bits_on_any_thread_count()
    {
        const int rows = 16000, classes = 10;
        AssertSplit(rows * classes);
        var x = Random(7, rows * classes, -3, 3);
        var rng = new Random(8);
        var target = new long[rows];
        for (int i = 0; i < rows; i++) target[i] = i % 11 == 0 ? -100 : rng.Next(classes);
        AssertSameForAnyThreadCount(pool =>
        {
            var losses = new float[rows];
            var dx = new float[rows * classes];
            float grad = 1;
            fixed (float* px = x, pl = losses, pdx = dx)
            fixed (long* pt = target)
            {
                CrossEntropyKernel.Losses(px, pt, rows, classes, -100, 0.1, pl, pool);
                CrossEntropyKernel.Gradient(px, pt, rows, classes, -100, 0.1, &grad, false, 1f / rows, pdx, pool);
            }
            return [.. losses, .. dx];
        });
    }

    [Theory]
    [InlineData(8, 40, 900)]    // [N, C, H·W]: channels and planes over the pool
    [InlineData(2000, 100, 1)]  // [N, C]: column blocks and rows over the pool
    public void Batch_norm_gives_identical_bits_on_any_thread_count(int batch, int channels, int inner)
    {
        AssertSplit((long)batch * channels * inner);
        var g = new BatchNormKernel.Geometry(batch, channels, inner);
        var x = Random(9, batch * channels * inner, 1, 3);
        var dy = Random(10, x.Length);
        var k = Random(11, 3 * channels);
        AssertSameForAnyThreadCount(pool =>
        {
            var stats = new float[2 * channels];
            var sums = new float[2 * channels];
            var dx = new float[x.Length];
            fixed (float* px = x, pdy = dy, ps = stats, psums = sums, pk = k, pdx = dx)
            {
                BatchNormKernel.Stats(g, px, ps, ps + channels, pool);
                BatchNormKernel.GradSums(g, pdy, px, ps, psums, psums + channels, pool);
                BatchNormKernel.Affine(g, pdy, px, ps, pk, pk + channels, pk + 2 * channels, pdx, pool);
            }
            return [.. stats, .. sums, .. dx];
        });
    }

    [Theory]
    [InlineData(300_001)]   // a partial last block of chunks
    [InlineData(262_144)]   // whole blocks only
    [InlineData(40_000)]    // below the split: the serial tree
    public void Whole_tensor_sum_is_the_serial_pairwise_tree_on_any_thread_count(int n)
    {
        var x = Random(12, n);
        float expected = SerialPairwiseSum(x);
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[1];
            var layout = ReduceLayout.Create([n], [1], [0], [true], reorder: true);
            fixed (float* px = x, py = y) ReduceKernel.Reduce<float, SumOperator>(layout, px, null, py, pool);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[0]));
            return y;
        });
    }

    /// <summary>The reduction's documented order: chunks of ReduceKernel.Chunk summed by TensorPrimitives, combined as a binary counter.</summary>
    private static float SerialPairwiseSum(float[] x)
    {
        var levels = new List<float?>();
        for (int start = 0; start < x.Length; start += ReduceKernel.Chunk)
        {
            float value = TensorPrimitives.Sum(x.AsSpan(start, Math.Min(ReduceKernel.Chunk, x.Length - start)));
            int k = 0;
            for (; k < levels.Count && levels[k] is { } held; k++)
            {
                value = held + value;
                levels[k] = null;
            }
            if (k == levels.Count) levels.Add(null);
            levels[k] = value;
        }
        float? result = null;
        foreach (var level in levels)
            if (level is { } v) result = result is { } r ? v + r : v;
        return result ?? 0;
    }

    private readonly struct SumOperator : IReduceOperator<float>
    {
        public static float Identity => 0;
        public static float Combine(float a, float b) => a + b;
        public static void Combine(ReadOnlySpan<float> x, Span<float> accumulator) => TensorPrimitives.Add(accumulator, x, accumulator);
        public static float Reduce(ReadOnlySpan<float> x, float shift, Span<float> scratch) => TensorPrimitives.Sum(x);
        public static void Map(ReadOnlySpan<float> x, ReadOnlySpan<float> shift, Span<float> destination) => x.CopyTo(destination);
        public static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> shift, Span<float> accumulator, Span<float> scratch)
            => TensorPrimitives.Add(accumulator, x, accumulator);
    }

    [Theory]
    [InlineData(new[] { 400, 1000 }, new[] { false, true })]     // rows: one output per row
    [InlineData(new[] { 400, 1000 }, new[] { true, false })]     // columns: a bias gradient
    public void Reductions_over_dimensions_give_identical_bits_on_any_thread_count(int[] shape, bool[] reduced)
    {
        AssertSplit(shape[0] * shape[1]);
        var x = Random(13, shape[0] * shape[1]);
        int outputs = reduced[0] ? shape[1] : shape[0];
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[outputs];
            var layout = ReduceLayout.Create(shape, [shape[1], 1], reduced[0] ? [0, 1] : [1, 0], reduced, reorder: true);
            fixed (float* px = x, py = y) ReduceKernel.Reduce<float, SumOperator>(layout, px, null, py, pool);
            return y;
        });
    }

    [Fact]
    public void Average_pooling_gives_identical_bits_on_any_thread_count()
    {
        var w = new PoolKernel.Window(28, 28, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1);
        const int planes = 128;
        var x = Random(14, planes * w.InArea);
        var g = Random(15, planes * w.OutArea);
        AssertSameForAnyThreadCount(pool =>
        {
            var y = new float[planes * w.OutArea];
            var dx = new float[x.Length];
            var ay = new float[planes * 16];
            var adx = new float[x.Length];
            fixed (float* px = x, pg = g, py = y, pdx = dx, pay = ay, padx = adx)
            {
                PoolKernel.AvgForward(w, planes, false, px, py, pool);
                PoolKernel.AvgBackward(w, planes, true, pg, pdx, pool);
                PoolKernel.AdaptiveAvgForward(planes, 28, 28, 4, 4, px, pay, pool);
                PoolKernel.AdaptiveAvgBackward(planes, 28, 28, 4, 4, pg, padx, pool);
            }
            return [.. y, .. dx, .. ay, .. adx];
        });
    }
}
