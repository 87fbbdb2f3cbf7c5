using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The fused softmax kernel against a naive float64 loop: rows along the innermost dimension and along
/// outer dimensions, of every length from 0 to 257, odd strides on input and output, and large values.
/// </summary>
public sealed unsafe class SoftmaxKernelTests
{
    private static Tensor View(int seed, int[] shape, int[] strides, int offset, double low = -4, double high = 4)
    {
        long span = offset + 1;
        for (int i = 0; i < shape.Length; i++) span += (long)Math.Max(shape[i] - 1, 0) * strides[i];
        return OpSample.Uniform(seed, low, high, (int)span).AsStrided(shape, strides, offset);
    }

    private static Tensor Dense(int seed, int[] shape, double low = -4, double high = 4) => View(seed, shape, Shape.ContiguousStrides(shape), 0, low, high);

    /// <summary>Naive softmax of the logical values along <paramref name="dim"/>, row-major result.</summary>
    private static double[] Naive(Tensor x, int dim, bool log)
    {
        var v = TestTensors.Values(x);
        var shape = x.ShapeArray;
        var result = new double[v.Length];
        int n = shape.Length == 0 ? 1 : shape[dim];
        int inner = 1;
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        int outer = n * inner == 0 ? 0 : v.Length / (n * inner);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int k = 0; k < n; k++) max = Math.Max(max, v[(o * n + k) * inner + i]);
                for (int k = 0; k < n; k++) sum += Math.Exp(v[(o * n + k) * inner + i] - max);
                for (int k = 0; k < n; k++)
                {
                    int at = (o * n + k) * inner + i;
                    result[at] = log ? v[at] - max - Math.Log(sum) : Math.Exp(v[at] - max) / sum;
                }
            }
        }
        return result;
    }

    private static Tensor Run(Tensor x, int dim, bool log, int[]? yStrides = null, DType dtype = DType.Float64)
    {
        var source = dtype == DType.Float64 ? x : x.To(dtype);
        Tensor y;
        if (yStrides is null) y = Tensor.Zeros(x.ShapeArray, dtype);
        else
        {
            long span = 1;
            for (int i = 0; i < x.Rank; i++) span += (long)Math.Max(x.ShapeArray[i] - 1, 0) * yStrides[i];
            y = Tensor.Zeros([(int)span], dtype).AsStrided(x.ShapeArray.ToArray(), yStrides, 0);
        }
        if (dtype == DType.Float64)
            SoftmaxKernel.Forward(source.ShapeArray, source.StridesArray, y.StridesArray, dim, (double*)source.DataPointer, (double*)y.DataPointer, log);
        else
            SoftmaxKernel.Forward(source.ShapeArray, source.StridesArray, y.StridesArray, dim, (float*)source.DataPointer, (float*)y.DataPointer, log);
        return y;
    }

    private static void AssertBoth(Tensor x, int dim, string what, int[]? yStrides = null)
    {
        foreach (var log in new[] { false, true })
            TestTensors.AssertClose(Naive(x, dim, log), TestTensors.Values(Run(x, dim, log, yStrides)), 1e-12, 1e-14, $"{(log ? "log-" : "")}softmax {what}");
    }

    [Fact]
    public void Rows_along_the_innermost_dimension_of_every_length_match_naive_loop()
    {
        for (int n = 0; n <= 257; n++) AssertBoth(Dense(n, [3, n]), 1, $"rows of {n}");
    }

    [Fact]
    public void Rows_along_an_outer_dimension_of_every_length_match_naive_loop()
    {
        for (int n = 0; n <= 257; n++)
        {
            AssertBoth(Dense(300 + n, [n, 5]), 0, $"{n} rows of 5 columns");
            AssertBoth(Dense(600 + n, [4, n]), 0, $"4 rows of {n} columns");
            AssertBoth(Dense(900 + n, [2, n, 3]), 1, $"middle dim of {n}");
        }
        AssertBoth(Dense(1, [3, SoftmaxKernel.Columns * 2 + 7]), 0, "more columns than a block");
    }

    [Fact]
    public void Long_rows_use_pooled_buffers_and_match_naive_loop()
    {
        AssertBoth(Dense(2, [2, 3000]), 1, "rows of 3000");
        AssertBoth(View(3, [2, 3000], [1, 2], 0), 1, "gathered rows of 3000");
    }

    [Fact]
    public void Odd_strides_on_input_and_output_match_naive_loop()
    {
        for (int n = 1; n <= 40; n += 3)
        {
            AssertBoth(View(n, [3, n], [3 * n + 1, 3], 2), 1, $"stride-3 rows of {n}");
            AssertBoth(View(n, [n, 4], [1, n + 3], 1), 0, $"contiguous rows along dim 0 of a transposed {n}x4");
            AssertBoth(View(n, [n, 4], [1, n + 3], 1), 1, $"strided rows along dim 1 of a transposed {n}x4");
            AssertBoth(View(n, [4, n], [2 * n + 1, 2], 0), 0, $"strided columns of {n}");
            AssertBoth(View(n, [2, 3, n], [1, 2 * n * 3, 2], 0), 1, $"permuted 3-d of {n}");
            AssertBoth(Dense(n, [3, n]), 1, $"scattered output of {n}", yStrides: [1, 3]);
            AssertBoth(Dense(n, [n, 3]), 0, $"scattered columns of {n}", yStrides: [1, n + 1]);
        }
    }

    [Fact]
    public void Scalars_and_size_one_dimensions_give_one_or_zero()
    {
        Assert.Equal(new double[] { 1 }, TestTensors.Values(Run(Tensor.Scalar(5, DType.Float64), 0, log: false)));
        Assert.Equal(new double[] { 0 }, TestTensors.Values(Run(Tensor.Scalar(5, DType.Float64), 0, log: true)));
        AssertBoth(Dense(4, [3, 1, 4]), 1, "a size-1 dimension");
        AssertBoth(Dense(5, [3, 4, 1]), 1, "trailing size-1 dimension");
    }

    [Fact]
    public void Large_values_stay_finite_in_float32()
    {
        foreach (var (x, dim) in new[] { (Dense(6, [5, 100], 995, 1005), 1), (Dense(7, [100, 5], -1005, -995), 0) })
        {
            foreach (var log in new[] { false, true })
            {
                var y = TestTensors.Values(Run(x, dim, log, dtype: DType.Float32));
                Assert.All(y, v => Assert.True(double.IsFinite(v)));
                TestTensors.AssertClose(Naive(x.To(DType.Float32).To(DType.Float64), dim, log), y, 1e-5, 1e-6, $"large values, log={log}");
            }
        }
    }

    [Fact]
    public void Float32_rows_sum_to_one()
    {
        for (int n = 1; n <= 257; n += 16)
        {
            var y = TestTensors.Values(Run(Dense(n, [2, n], -20, 20), 1, log: false, dtype: DType.Float32));
            for (int r = 0; r < 2; r++) Assert.Equal(1.0, y.Skip(r * n).Take(n).Sum(), 1e-5);
        }
    }
}
