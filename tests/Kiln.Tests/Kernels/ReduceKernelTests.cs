using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The reduction kernel against naive loops: rows (reduced innermost dimension) and columns (kept
/// innermost dimension) of every length from 0 to 257, several reduced dimensions, odd strides,
/// transposed and broadcast inputs, arg-reductions with ties and NaN, and the accuracy of long float sums.
/// </summary>
public sealed unsafe class ReduceKernelTests
{
    private static readonly Func<List<double>, double> SumFold = v => v.Sum();
    private static readonly Func<List<double>, double> MaxFold = v => v.Aggregate(double.NegativeInfinity, Math.Max);
    private static readonly Func<List<double>, double> MinFold = v => v.Aggregate(double.PositiveInfinity, Math.Min);
    private static readonly Func<List<double>, double> ProdFold = v => v.Aggregate(1.0, (a, b) => a * b);

    /// <summary>A tensor of <paramref name="shape"/> whose elements sit at <paramref name="strides"/> in a larger buffer of random values.</summary>
    private static Tensor View(int seed, int[] shape, int[] strides, int offset, DType dtype = DType.Float64, double low = -2, double high = 2)
    {
        long span = offset + 1;
        for (int i = 0; i < shape.Length; i++) span += (long)Math.Max(shape[i] - 1, 0) * strides[i];
        var buffer = OpSample.Uniform(seed, low, high, (int)span).To(dtype);
        return buffer.AsStrided(shape, strides, offset);
    }

    private static Tensor Dense(int seed, int[] shape, DType dtype = DType.Float64, double low = -2, double high = 2)
        => View(seed, shape, Shape.ContiguousStrides(shape), 0, dtype, low, high);

    private static int[] KeptShape(int[] shape, bool[] reduced) => [.. shape.Where((_, i) => !reduced[i])];

    private static ReduceLayout LayoutFor(Tensor x, bool[] reduced, Tensor y, bool reorder)
    {
        var outStrides = new int[x.Rank];
        int od = 0;
        for (int i = 0; i < x.Rank; i++)
            if (!reduced[i]) outStrides[i] = y.StridesArray[od++];
        return ReduceLayout.Create(x.ShapeArray, x.StridesArray, outStrides, reduced, reorder);
    }

    private static Tensor Reduce<TOp>(Tensor x, bool[] reduced, Tensor? shift = null) where TOp : IReduceOperator<double>
    {
        var y = Tensor.Zeros(KeptShape(x.ShapeArray, reduced), DType.Float64);
        ReduceKernel.Reduce<double, TOp>(LayoutFor(x, reduced, y, reorder: true), (double*)x.DataPointer,
            shift is null ? null : (double*)shift.DataPointer, (double*)y.DataPointer);
        return y;
    }

    private static Tensor ReduceFloat<TOp>(Tensor x, bool[] reduced) where TOp : IReduceOperator<float>
    {
        var y = Tensor.Zeros(KeptShape(x.ShapeArray, reduced), DType.Float32);
        ReduceKernel.Reduce<float, TOp>(LayoutFor(x, reduced, y, reorder: true), (float*)x.DataPointer, null, (float*)y.DataPointer);
        return y;
    }

    private static Tensor ArgReduce<TOp>(Tensor x, bool[] reduced) where TOp : IArgReduceOperator<double>
    {
        var y = Tensor.Full(KeptShape(x.ShapeArray, reduced), -7, DType.Int64);
        ReduceKernel.ArgReduce<double, TOp>(LayoutFor(x, reduced, y, reorder: false), (double*)x.DataPointer, (long*)y.DataPointer);
        return y;
    }

    /// <summary>The values of each output's group, in row-major order of the reduced dimensions.</summary>
    private static List<double>[] Groups(Tensor x, bool[] reduced)
    {
        var values = TestTensors.Values(x);
        var shape = x.ShapeArray;
        int outCount = KeptShape(shape, reduced).Aggregate(1, (a, b) => a * b);
        var groups = Enumerable.Range(0, outCount).Select(_ => new List<double>()).ToArray();
        var index = new int[shape.Length];
        for (int flat = 0; flat < values.Length; flat++)
        {
            int rem = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rem % shape[d]; rem /= shape[d]; }
            int o = 0;
            for (int d = 0; d < shape.Length; d++)
                if (!reduced[d]) o = o * shape[d] + index[d];
            groups[o].Add(values[flat]);
        }
        return groups;
    }

    private static double[] Naive(Tensor x, bool[] reduced, Func<List<double>, double> fold) => [.. Groups(x, reduced).Select(fold)];

    private static void AssertReductions(Tensor x, bool[] reduced, string what)
    {
        TestTensors.AssertClose(Naive(x, reduced, SumFold), TestTensors.Values(Reduce<SumOp.Operator<double>>(x, reduced)), 1e-12, 1e-12, $"sum {what}");
        TestTensors.AssertClose(Naive(x, reduced, ProdFold), TestTensors.Values(Reduce<ProdOp.Operator<double>>(x, reduced)), 1e-12, 1e-300, $"prod {what}");
        if (Groups(x, reduced).Any(g => g.Count == 0)) return;
        TestTensors.AssertClose(Naive(x, reduced, MaxFold), TestTensors.Values(Reduce<MaxOp.Operator<double>>(x, reduced)), 0, 0, $"max {what}");
        TestTensors.AssertClose(Naive(x, reduced, MinFold), TestTensors.Values(Reduce<MinOp.Operator<double>>(x, reduced)), 0, 0, $"min {what}");
    }

    [Fact]
    public void Rows_of_every_length_match_naive_loops()
    {
        for (int n = 0; n <= 257; n++)
            AssertReductions(Dense(n, [3, n]), [false, true], $"rows of {n}");
    }

    [Fact]
    public void Columns_of_every_length_match_naive_loops()
    {
        for (int n = 0; n <= 257; n++)
        {
            AssertReductions(Dense(1000 + n, [n, 5]), [true, false], $"{n} rows of 5");
            AssertReductions(Dense(2000 + n, [4, n]), [true, false], $"4 rows of {n}");
        }
    }

    [Fact]
    public void Rows_and_columns_longer_than_a_chunk_match_naive_loops()
    {
        int n = ReduceKernel.Chunk * 2 + 37;
        AssertReductions(Dense(1, [2, n], low: 0.999, high: 1.001), [false, true], "long rows");
        AssertReductions(Dense(2, [3, n], low: 0.999, high: 1.001), [true, false], "long columns");
        AssertReductions(Dense(3, [ReduceKernel.BlockRows * 9 + 5, 7], low: 0.999, high: 1.001), [true, false], "many rows");
    }

    [Fact]
    public void Several_reduced_dimensions_match_naive_loops()
    {
        var x = Dense(4, [3, 4, 5, 6]);
        bool[][] sets =
        [
            [true, false, true, false], [false, true, false, true], [true, true, false, false],
            [false, false, true, true], [true, false, false, true], [true, true, true, true], [false, false, false, false],
        ];
        foreach (var set in sets) AssertReductions(x, set, string.Join(",", set));
    }

    [Fact]
    public void Odd_strides_and_offsets_match_naive_loops()
    {
        for (int n = 1; n <= 40; n += 3)
        {
            AssertReductions(View(n, [3, n], [3 * n + 1, 3], 2), [false, true], $"stride-3 rows of {n}");
            AssertReductions(View(n, [n, 4], [5, n * 5 + 2], 1), [true, false], $"transposed {n}x4 over dim 0");
            AssertReductions(View(n, [n, 4], [5, n * 5 + 2], 1), [false, true], $"transposed {n}x4 over dim 1");
            AssertReductions(View(n, [2, n, 3], [7 * n, 7, 2], 0), [false, true, false], $"strided middle dim of {n}");
        }
    }

    [Fact]
    public void Broadcast_dimensions_with_stride_zero_are_read_repeatedly()
    {
        var x = View(5, [6, 4, 3], [0, 3, 1], 0);
        AssertReductions(x, [true, false, false], "over the broadcast dim");
        AssertReductions(x, [false, true, true], "beside the broadcast dim");
        AssertReductions(x, [true, true, true], "all");
    }

    [Fact]
    public void Size_one_and_empty_dimensions_give_the_identity_or_nothing()
    {
        AssertReductions(Dense(6, [1, 1, 1]), [true, false, true], "size-1 dims");
        AssertReductions(Dense(7, [3, 1]), [false, true], "reduce a size-1 dim");
        var empty = Dense(8, [0, 4]);
        Assert.Equal(new double[] { 0, 0, 0, 0 }, TestTensors.Values(Reduce<SumOp.Operator<double>>(empty, [true, false])));
        Assert.Equal(new double[] { 1, 1, 1, 1 }, TestTensors.Values(Reduce<ProdOp.Operator<double>>(empty, [true, false])));
        Assert.Empty(TestTensors.Values(Reduce<SumOp.Operator<double>>(Dense(9, [4, 0]), [true, false])));
    }

    [Fact]
    public void Integer_reductions_are_exact()
    {
        var x = Tensor.From<long>([.. Enumerable.Range(0, 300).Select(i => (long)i * 1_000_000_007)], 3, 100);
        var y = Tensor.Zeros([100], DType.Int64);
        ReduceKernel.Reduce<long, SumOp.Operator<long>>(LayoutFor(x, [true, false], y, true), (long*)x.DataPointer, null, (long*)y.DataPointer);
        var values = y.ToArray<long>();
        for (int j = 0; j < 100; j++) Assert.Equal((long)j * 1_000_000_007 * 3 + 300L * 1_000_000_007, values[j]);

        var m = Tensor.From<int>([5, -9, 12, 3, int.MinValue, 7], 2, 3);
        var mx = Tensor.Zeros([2], DType.Int32);
        ReduceKernel.Reduce<int, MaxOp.Operator<int>>(LayoutFor(m, [false, true], mx, true), (int*)m.DataPointer, null, (int*)mx.DataPointer);
        Assert.Equal(new[] { 12, 7 }, mx.ToArray<int>());
    }

    [Fact]
    public void Max_and_min_propagate_nan_in_rows_and_columns()
    {
        var x = Tensor.From<double>([1, double.NaN, 3, 4, 5, 6], 2, 3);
        Assert.True(double.IsNaN(TestTensors.Values(Reduce<MaxOp.Operator<double>>(x, [false, true]))[0]));
        Assert.Equal(6, TestTensors.Values(Reduce<MaxOp.Operator<double>>(x, [false, true]))[1]);
        var columns = TestTensors.Values(Reduce<MinOp.Operator<double>>(x, [true, false]));
        Assert.Equal(1, columns[0]);
        Assert.True(double.IsNaN(columns[1]));
    }

    [Fact]
    public void Float_sum_of_a_long_row_is_accurate()
    {
        const int n = 1 << 20;
        var rng = new Random(11);
        var data = new float[n];
        double exact = 0;
        for (int i = 0; i < n; i++) { data[i] = (float)rng.NextDouble(); exact += data[i]; }
        var x = Tensor.From<float>(data, 1, n);
        double sum = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(x, [false, true]))[0];
        Assert.True(Math.Abs(sum - exact) <= 1e-6 * exact, $"row sum {sum} vs {exact}");

        // The same values summed down a column (a bias gradient over 2^20 rows) stay as accurate.
        var column = Tensor.From<float>(data, n, 1);
        double columnSum = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(column, [true, false]))[0];
        Assert.True(Math.Abs(columnSum - exact) <= 1e-6 * exact, $"column sum {columnSum} vs {exact}");
        var wide = Tensor.From<float>(data, n / 4, 4);
        var sums = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(wide, [true, false]));
        for (int j = 0; j < 4; j++)
        {
            double e = 0;
            for (int i = j; i < n; i += 4) e += data[i];
            Assert.True(Math.Abs(sums[j] - e) <= 1e-6 * e, $"column {j}: {sums[j]} vs {e}");
        }
    }

    [Fact]
    public void Results_do_not_depend_on_where_the_values_lie()
    {
        // The same values contiguous and at doubled strides give the same bits, and a rerun repeats them.
        var dense = Dense(12, [37, 300], DType.Float32);
        var doubled = TestTensors.Strided(dense);
        foreach (var reduced in new[] { new[] { true, false }, new[] { false, true }, new[] { true, true } })
        {
            var a = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(dense, reduced));
            var b = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(doubled, reduced));
            var c = TestTensors.Values(ReduceFloat<SumOp.Operator<float>>(dense, reduced));
            Assert.Equal(a, b);
            Assert.Equal(a, c);
        }
    }

    [Fact]
    public void Shifted_reductions_map_each_value_with_its_output_shift()
    {
        foreach (var (x, reduced) in new (Tensor, bool[])[]
        {
            (Dense(13, [5, 67]), [false, true]),
            (Dense(14, [67, 5]), [true, false]),
            (View(15, [6, 9], [1, 7], 0), [true, false]),
            (Dense(16, [ReduceKernel.BlockRows * 3 + 1, 3]), [true, false]),
        })
        {
            var groups = Groups(x, reduced);
            var shiftValues = groups.Select((g, i) => 0.25 * i - 0.5).ToArray();
            var shift = Tensor.From<double>(shiftValues, KeptShape(x.ShapeArray, reduced));
            var squares = TestTensors.Values(Reduce<VarOp.SquaredDeviation<double>>(x, reduced, shift));
            var exps = TestTensors.Values(Reduce<LogSumExpOp.ShiftedExp<double>>(x, reduced, shift));
            for (int o = 0; o < groups.Length; o++)
            {
                double s = shiftValues[o];
                Assert.Equal(groups[o].Sum(v => (v - s) * (v - s)), squares[o], 1e-12);
                Assert.Equal(groups[o].Sum(v => Math.Exp(v - s)), exps[o], 1e-12);
            }
        }
    }

    private static double[] NaiveArg(Tensor x, bool[] reduced, bool max) =>
    [
        .. Groups(x, reduced).Select(g =>
        {
            int best = 0;
            for (int i = 1; i < g.Count; i++)
                if (!double.IsNaN(g[best]) && (double.IsNaN(g[i]) || (max ? g[i] > g[best] : g[i] < g[best]))) best = i;
            return (double)best;
        }),
    ];

    private static void AssertArg(Tensor x, bool[] reduced, string what)
    {
        Assert.Equal(NaiveArg(x, reduced, max: true), TestTensors.Values(ArgReduce<ArgMaxOp.Operator<double>>(x, reduced)));
        Assert.Equal(NaiveArg(x, reduced, max: false), TestTensors.Values(ArgReduce<ArgMinOp.Operator<double>>(x, reduced)));
        _ = what;
    }

    /// <summary>Values from a small set, so ties are everywhere, with a NaN now and then.</summary>
    private static Tensor Ties(int seed, int[] shape, bool nan)
    {
        var rng = new Random(seed);
        var data = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = nan && rng.Next(40) == 0 ? double.NaN : rng.Next(4);
        return Tensor.From<double>(data, shape);
    }

    [Fact]
    public void Arg_reductions_give_the_first_winner_for_every_length()
    {
        for (int n = 1; n <= 257; n++)
        {
            AssertArg(Ties(n, [3, n], nan: false), [false, true], $"rows of {n}");
            AssertArg(Ties(n, [n, 5], nan: false), [true, false], $"{n} rows of 5");
            AssertArg(Ties(n, [2, n], nan: true), [false, true], $"rows of {n} with NaN");
            AssertArg(Ties(n, [n, 3], nan: true), [true, false], $"columns of {n} with NaN");
        }
        AssertArg(Ties(3, [2, ReduceKernel.Chunk + 300], nan: false), [false, true], "rows longer than a chunk");
    }

    [Fact]
    public void Arg_reductions_number_positions_in_logical_order_for_any_layout()
    {
        var values = Ties(21, [5, 6], nan: false);
        var transposed = values.AsStrided([6, 5], [1, 6], 0);
        AssertArg(transposed, [true, true], "all of a transposed view");
        AssertArg(transposed, [true, false], "dim 0 of a transposed view");
        AssertArg(transposed, [false, true], "dim 1 of a transposed view");
        AssertArg(View(22, [3, 4, 5], [1, 3 * 5 + 1, 3], 0), [true, true, true], "all of a permuted view");
        AssertArg(View(23, [3, 4, 5], [20, 5, 1], 0), [false, true, false], "middle dim");
    }

    [Fact]
    public void Span_sum_matches_a_naive_sum_for_every_length_to_257()
    {
        var rng = new Random(41);
        for (int n = 0; n <= 257; n++)
        {
            var f = new float[n];
            var d = new double[n];
            var l = new long[n];
            for (int i = 0; i < n; i++)
            {
                d[i] = rng.NextDouble() * 4 - 2;
                f[i] = (float)d[i];
                l[i] = rng.NextInt64(-1000, 1000);
            }
            Assert.True(Math.Abs(d.Sum() - ReduceKernel.Sum<double>(d)) <= 1e-12, $"double, length {n}");
            // Float rounding grows with the length and the magnitudes (a sequential sum without intrinsics).
            Assert.True(Math.Abs(f.Sum(v => (double)v) - ReduceKernel.Sum<float>(f)) <= 1e-5 * (1 + f.Sum(v => Math.Abs(v))), $"float, length {n}");
            Assert.Equal(l.Sum(), ReduceKernel.Sum<long>(l));
        }
    }
}
