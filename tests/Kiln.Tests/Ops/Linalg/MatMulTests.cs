namespace Kiln.Tests.Ops.Linalg;

public sealed class MatMulTests
{
    private static double[] RandomValues(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new double[count];
        for (int i = 0; i < count; i++) data[i] = rng.NextDouble() * 2 - 1;
        return data;
    }

    private static Tensor Random(int seed, params int[] shape) => Tensor.From<float>(
        RandomValues((int)new Shape(shape).NumElements, seed).Select(v => (float)v).ToArray(), shape);

    /// <summary>The batched product by plain loops over explicit index arithmetic (row-major, broadcast batch dims).</summary>
    private static double[] Naive(double[] a, int[] aShape, double[] b, int[] bShape, out int[] outShape)
    {
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        var batchA = aShape[..^2];
        var batchB = bShape[..^2];
        int rank = Math.Max(batchA.Length, batchB.Length);
        var batch = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - batchA.Length) >= 0 ? batchA[i - (rank - batchA.Length)] : 1;
            int db = i - (rank - batchB.Length) >= 0 ? batchB[i - (rank - batchB.Length)] : 1;
            batch[i] = da == 1 ? db : da;
        }
        outShape = [.. batch, m, n];
        int count = batch.Aggregate(1, (x, y) => x * y);
        var result = new double[count * m * n];
        for (int t = 0; t < count; t++)
        {
            int rem = t, aOff = 0, bOff = 0, aMul = 1, bMul = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int idx = rem % batch[d];
                rem /= batch[d];
                int ia = d - (rank - batchA.Length), ib = d - (rank - batchB.Length);
                if (ia >= 0) { aOff += (batchA[ia] == 1 ? 0 : idx) * aMul; aMul *= batchA[ia]; }
                if (ib >= 0) { bOff += (batchB[ib] == 1 ? 0 : idx) * bMul; bMul *= batchB[ib]; }
            }
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[aOff * m * k + i * k + p] * b[bOff * k * n + p * n + j];
                    result[(t * m + i) * n + j] = s;
                }
        }
        return result;
    }

    private static void AssertMatches(Tensor a, Tensor b, int[] expectedShape, string what)
    {
        var av = TestTensors.Values(a);
        var bv = TestTensors.Values(b);
        var aShape = a.Rank == 1 ? [1, a.ShapeArray[0]] : a.ShapeArray;
        var bShape = b.Rank == 1 ? [b.ShapeArray[0], 1] : b.ShapeArray;
        var expected = Naive(av, aShape, bv, bShape, out _);
        var actual = a.MatMul(b);
        Assert.Equal(expectedShape, actual.ShapeArray);
        TestTensors.AssertClose(expected, TestTensors.Values(actual), 1e-5, 1e-5, what);
    }

    [Fact]
    public void MatMul_of_two_matrices_gives_known_values()
    {
        var a = Tensor.From<float>([1, 2, 3, 4], 2, 2);
        var b = Tensor.From<float>([5, 6, 7, 8], 2, 2);
        Assert.Equal([19f, 22f, 43f, 50f], a.MatMul(b).ToArray<float>());
    }

    [Fact]
    public void MatMul_of_two_vectors_is_a_scalar_dot_product()
    {
        var r = Tensor.From<double>([1, 2, 3], 3).MatMul(Tensor.From<double>([4, 5, 6], 3));
        Assert.Equal(0, r.Rank);
        Assert.Equal(32.0, r.Item());
    }

    [Fact]
    public void MatMul_with_vectors_drops_their_unit_dimension()
    {
        var v = Tensor.From<float>([1, 2], 2);
        var m = Tensor.From<float>([1, 2, 3, 4, 5, 6], 2, 3);
        var left = v.MatMul(m);
        Assert.Equal([3], left.ShapeArray);
        Assert.Equal([9f, 12f, 15f], left.ToArray<float>());
        var right = m.MatMul(Tensor.From<float>([1, 0, -1], 3));
        Assert.Equal([2], right.ShapeArray);
        Assert.Equal([-2f, -2f], right.ToArray<float>());
        AssertMatches(Random(1, 4), Random(2, 3, 4, 5), [3, 5], "vector @ batched");
        AssertMatches(Random(3, 3, 2, 4), Random(4, 4), [3, 2], "batched @ vector");
    }

    [Fact]
    public void MatMul_broadcasts_batch_dimensions()
    {
        AssertMatches(Random(5, 2, 1, 3, 4), Random(6, 5, 4, 2), [2, 5, 3, 2], "[2,1,3,4] @ [5,4,2]");
        AssertMatches(Random(7, 3, 4), Random(8, 2, 4, 6), [2, 3, 6], "matrix @ batched");
        AssertMatches(Random(9, 4, 50, 30), Random(10, 30, 20), [4, 50, 20], "batched @ shared matrix");
        AssertMatches(Random(11, 300, 16, 32), Random(12, 300, 32, 16), [300, 16, 16], "many small products");
        AssertMatches(Random(13, 2, 70, 130), Random(14, 1, 130, 300), [2, 70, 300], "big products");
        AssertMatches(Random(15, 0, 3, 4), Random(16, 4, 2), [0, 3, 2], "empty batch");
    }

    [Fact]
    public void MatMul_reads_transposed_and_sliced_views_in_place()
    {
        // A stored as [k, m] and viewed as its [m, k] transpose; B viewed with every other batch.
        var stored = Random(20, 6, 9);
        var aT = stored.AsStrided([9, 6], [1, 9], 0);
        var bStored = Random(21, 4, 6, 5);
        var bEvery2 = bStored.AsStrided([2, 6, 5], [60, 5, 1], 0);
        AssertMatches(aT, Random(22, 6, 7), [9, 7], "transposed A view");
        AssertMatches(Random(23, 3, 6), aT.AsStrided([6, 9], [9, 1], 0), [3, 9], "row-major view");
        AssertMatches(Random(24, 2, 3, 6), bEvery2, [2, 3, 5], "sliced batch");
        var batchedT = Random(25, 2, 5, 6).AsStrided([2, 6, 5], [30, 1, 6], 0);
        AssertMatches(Random(26, 2, 3, 6), batchedT, [2, 3, 5], "batched transposed B view");
        var slicedRows = Random(27, 4, 8, 6).AsStrided([4, 3, 6], [48, 6, 1], 6);
        AssertMatches(slicedRows, Random(28, 6, 2), [4, 3, 2], "batch rows that do not fold");
    }

    [Fact]
    public void MatMul_with_an_empty_inner_dimension_gives_zeros()
    {
        var r = Tensor.Zeros([3, 0]).MatMul(Tensor.Zeros([0, 2]));
        Assert.Equal([3, 2], r.ShapeArray);
        Assert.All(r.ToArray<float>(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MatMul_error_names_both_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([32, 128]).MatMul(Tensor.Zeros([256, 10])));
        Assert.Equal("MatMul: inner dimensions differ: [32, 128] float32 @ [256, 10] float32", ex.Message);
        var batch = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3, 4]).MatMul(Tensor.Zeros([3, 4, 5])));
        Assert.Contains("batch dimensions [2] and [3] do not broadcast", batch.Message);
        var dtypes = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).MatMul(Tensor.Zeros([3, 2], DType.Float64)));
        Assert.Contains("dtypes differ: float32 and float64", dtypes.Message);
    }

    [Fact]
    public void MatMul_backward_sums_gradients_over_broadcast_batch_dimensions()
    {
        var a = Tensor.From<double>(RandomValues(2 * 3 * 4, 30), 2, 3, 4);
        var b = Tensor.From<double>(RandomValues(4 * 5, 31), 4, 5);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        a.MatMul(b).Sum().Backward();
        // d(sum)/dB[p, j] = Σ over batch and rows of A[.., i, p]; d(sum)/dA[.., i, p] = Σ_j B[p, j].
        var av = a.ToArray<double>();
        var bv = b.ToArray<double>();
        var gb = b.Grad!.ToArray<double>();
        var ga = a.Grad!.ToArray<double>();
        Assert.Equal([4, 5], b.Grad.ShapeArray);
        for (int p = 0; p < 4; p++)
        {
            double colSum = 0;
            for (int t = 0; t < 6; t++) colSum += av[t * 4 + p];
            double rowSum = 0;
            for (int j = 0; j < 5; j++) rowSum += bv[p * 5 + j];
            for (int j = 0; j < 5; j++) Assert.Equal(colSum, gb[p * 5 + j], 12);
            for (int t = 0; t < 6; t++) Assert.Equal(rowSum, ga[t * 4 + p], 12);
        }
    }

    [Fact]
    public void MatMul_backward_of_a_dot_product_gives_the_other_vector()
    {
        var x = Tensor.From<double>([1, 2, 3], 3);
        var y = Tensor.From<double>([4, 5, 6], 3);
        x.RequiresGrad = true;
        y.RequiresGrad = true;
        x.MatMul(y).Backward();
        Assert.Equal([4.0, 5, 6], x.Grad!.ToArray<double>());
        Assert.Equal([1.0, 2, 3], y.Grad!.ToArray<double>());
    }
}
