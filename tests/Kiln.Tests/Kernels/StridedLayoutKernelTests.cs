using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// StridedLayout's coalescing and row addressing, and CopyKernel over it, against naive index loops.
/// Rerun under reduced ISAs by IsaRerunTests.
/// </summary>
public sealed unsafe class StridedLayoutKernelTests
{
    /// <summary>Every (output offset, input offsets...) tuple the layout visits, in visiting order.</summary>
    private static List<int[]> Visits(StridedLayout layout)
    {
        var visits = new List<int[]>();
        int operands = layout.OperandCount;
        for (int r = 0; r < layout.RowCount; r++)
            for (int i = 0; i < layout.RowLength; i++)
            {
                var v = new int[operands];
                for (int k = 0; k < operands; k++) v[k] = layout.RowOffset(k, r) + i * layout.RowStride(k);
                visits.Add(v);
            }
        return visits;
    }

    /// <summary>The same tuples from a plain row-major walk of the uncoalesced shape.</summary>
    private static List<int[]> NaiveVisits(int[] shape, int[] outStrides, params (int[] Shape, int[] Strides)[] inputs)
    {
        var visits = new List<int[]>();
        long n = 1;
        foreach (var d in shape) n *= d;
        var index = new int[shape.Length];
        for (long flat = 0; flat < n; flat++)
        {
            long rem = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { index[d] = (int)(rem % shape[d]); rem /= shape[d]; }
            var v = new int[inputs.Length + 1];
            for (int d = 0; d < shape.Length; d++) v[0] += index[d] * outStrides[d];
            for (int k = 0; k < inputs.Length; k++)
            {
                var (s, st) = inputs[k];
                int lead = shape.Length - s.Length;
                for (int d = 0; d < s.Length; d++)
                    if (s[d] != 1) v[k + 1] += index[d + lead] * st[d];
            }
            visits.Add(v);
        }
        return visits;
    }

    private static void AssertSameVisits(int[] shape, int[] outStrides, params (int[] Shape, int[] Strides)[] inputs)
    {
        var layout = StridedLayout.Create(shape, outStrides, inputs);
        var expected = NaiveVisits(shape, outStrides, inputs);
        var actual = Visits(layout);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].SequenceEqual(actual[i]), $"visit {i}: [{string.Join(", ", actual[i])}], expected [{string.Join(", ", expected[i])}] for shape {Shape.Format(shape)}");
    }

    private static int[] Dense(params int[] shape) => Shape.ContiguousStrides(shape);

    [Fact]
    public void Contiguous_operands_coalesce_into_one_row()
    {
        var layout = StridedLayout.Create([2, 3, 4], Dense(2, 3, 4), ([2, 3, 4], Dense(2, 3, 4)), ([2, 3, 4], Dense(2, 3, 4)));
        Assert.Equal([24], layout.Shape.ToArray());
        Assert.Equal(1, layout.RowCount);
        Assert.Equal(24, layout.RowLength);
        for (int k = 0; k < 3; k++) Assert.Equal(1, layout.RowStride(k));
    }

    [Fact]
    public void Size_one_dimensions_are_dropped()
    {
        var layout = StridedLayout.Create([1, 5, 1, 3], Dense(1, 5, 1, 3), ([5, 1, 3], [3, 99, 1]));
        Assert.Equal([15], layout.Shape.ToArray());
    }

    [Fact]
    public void A_broadcast_row_keeps_two_dimensions_with_a_zero_stride()
    {
        var layout = StridedLayout.Create([4, 6], Dense(4, 6), ([4, 6], Dense(4, 6)), ([6], [1]));
        Assert.Equal([4, 6], layout.Shape.ToArray());
        Assert.Equal([6, 1], layout.Strides(1).ToArray());
        Assert.Equal([0, 1], layout.Strides(2).ToArray());
    }

    [Fact]
    public void A_fully_broadcast_operand_merges_with_zero_strides()
    {
        var layout = StridedLayout.Create([4, 6], Dense(4, 6), ([], []));
        Assert.Equal([24], layout.Shape.ToArray());
        Assert.Equal(0, layout.RowStride(1));
    }

    [Fact]
    public void A_transposed_operand_is_not_merged()
    {
        var layout = StridedLayout.Create([3, 5], Dense(3, 5), ([3, 5], [1, 3]));
        Assert.Equal([3, 5], layout.Shape.ToArray());
        Assert.Equal(3, layout.RowStride(1));
    }

    [Fact]
    public void A_scalar_layout_is_one_row_of_one()
    {
        var layout = StridedLayout.Create([], [], ([], []));
        Assert.Equal(0, layout.Rank);
        Assert.Equal(1, layout.RowCount);
        Assert.Equal(1, layout.RowLength);
        Assert.Equal(0, layout.RowOffset(1, 0));
    }

    [Fact]
    public void Zero_sized_dimensions_visit_nothing()
    {
        foreach (var shape in new[] { new[] { 0 }, [3, 0], [0, 3], [2, 0, 4] })
        {
            var layout = StridedLayout.Create(shape, Dense(shape), (shape, Dense(shape)));
            Assert.Empty(Visits(layout));
        }
    }

    [Theory]
    [InlineData(new[] { 7 }, new[] { 2 })]
    [InlineData(new[] { 3, 4 }, new[] { 1, 3 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 24, 8, 2 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 1, 8, 2 })]
    [InlineData(new[] { 5, 1, 6 }, new[] { 6, 100, 1 })]
    [InlineData(new[] { 4, 2, 3, 2 }, new[] { 1, 40, 12, 4 })]
    public void Strided_inputs_visit_the_same_elements_as_a_naive_walk(int[] shape, int[] strides)
    {
        AssertSameVisits(shape, Dense(shape), (shape, strides));
        AssertSameVisits(shape, strides.Select(s => s * 3).ToArray(), (shape, Dense(shape)));
        AssertSameVisits(shape, Dense(shape), (shape, strides), (shape[1..], Dense(shape[1..])));
    }

    [Fact]
    public void Random_layouts_visit_the_same_elements_as_a_naive_walk()
    {
        var rng = new Random(99);
        for (int trial = 0; trial < 500; trial++)
        {
            int rank = rng.Next(0, 6);
            var shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 5)).ToArray();
            var outStrides = RandomStrides(rng, shape);
            var a = shape[rng.Next(0, rank + 1)..].Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
            var b = shape[rng.Next(0, rank + 1)..].Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
            AssertSameVisits(shape, outStrides, (a, RandomStrides(rng, a)), (b, RandomStrides(rng, b)));
        }
    }

    private static int[] RandomStrides(Random rng, int[] shape)
    {
        var order = Enumerable.Range(0, shape.Length).OrderBy(_ => rng.Next()).ToArray();
        var strides = new int[shape.Length];
        int step = 1;
        foreach (var d in order.Reverse())
        {
            strides[d] = step * rng.Next(1, 3);
            step = strides[d] * shape[d];
        }
        return strides;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Copy_between_strided_views_matches_a_naive_copy(int elementSize)
    {
        var rng = new Random(elementSize);
        for (int trial = 0; trial < 200; trial++)
        {
            int rank = rng.Next(0, 5);
            var shape = Enumerable.Range(0, rank).Select(_ => rng.Next(0, 9) == 0 ? 1 : rng.Next(1, 14)).ToArray();
            var dstStrides = RandomStrides(rng, shape);
            var srcShape = shape.Select(d => rng.Next(4) == 0 ? 1 : d).ToArray();
            var srcStrides = RandomStrides(rng, srcShape);
            int dstOffset = rng.Next(0, 5), srcOffset = rng.Next(0, 5);
            int dstExtent = dstOffset + 1 + shape.Select((d, i) => (d - 1) * dstStrides[i]).Sum();
            int srcExtent = srcOffset + 1 + srcShape.Select((d, i) => (d - 1) * srcStrides[i]).Sum();

            var src = new byte[srcExtent * elementSize];
            rng.NextBytes(src);
            var expected = new byte[dstExtent * elementSize];
            Array.Fill(expected, (byte)0xAB);
            var actual = (byte[])expected.Clone();
            foreach (var v in NaiveVisits(shape, dstStrides, (srcShape, srcStrides)))
                Array.Copy(src, (srcOffset + v[1]) * elementSize, expected, (dstOffset + v[0]) * elementSize, elementSize);

            var layout = StridedLayout.Create(shape, dstStrides, (srcShape, srcStrides));
            fixed (byte* pd = actual, ps = src)
                CopyKernel.Copy(layout, pd + dstOffset * elementSize, ps + srcOffset * elementSize, elementSize);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(257)]
    [InlineData(4099)]
    public void Copy_of_contiguous_and_broadcast_rows(int n)
    {
        var src = Enumerable.Range(0, n).Select(i => (long)i * 3 - 7).ToArray();
        var dst = new long[n];
        var layout = StridedLayout.Create([n], [1], ([n], [1]));
        fixed (long* pd = dst, ps = src) CopyKernel.Copy(layout, (byte*)pd, (byte*)ps, 8);
        Assert.Equal(src, dst);

        var one = new long[] { 42 };
        var filled = new long[n];
        var broadcast = StridedLayout.Create([n], [1], ([1], [1]));
        fixed (long* pd = filled, ps = one) CopyKernel.Copy(broadcast, (byte*)pd, (byte*)ps, 8);
        Assert.All(filled, v => Assert.Equal(42, v));
    }
}
