namespace Kiln.Tests.Tensors;

public sealed class ArraysTests
{
    [Fact]
    public void From_2d_array_keeps_rows_and_columns()
    {
        var t = Tensor.From(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<float>());
    }

    [Fact]
    public void From_3d_and_4d_arrays_are_row_major()
    {
        var data3 = new double[2, 3, 4];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) data3[i, j, k] = 100 * i + 10 * j + k;
        var t3 = Tensor.From(data3);
        Assert.Equal(new Shape(2, 3, 4), t3.Shape);
        Assert.Equal(DType.Float64, t3.DType);
        var flat3 = t3.ToArray<double>();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) Assert.Equal(data3[i, j, k], flat3[(i * 3 + j) * 4 + k]);

        var data4 = new int[2, 1, 3, 2];
        for (int i = 0; i < 2; i++) for (int k = 0; k < 3; k++) for (int l = 0; l < 2; l++) data4[i, 0, k, l] = 1000 * i + 10 * k + l;
        var t4 = Tensor.From(data4);
        Assert.Equal(new Shape(2, 1, 3, 2), t4.Shape);
        Assert.Equal(DType.Int32, t4.DType);
        Assert.Equal(new[] { 0, 1, 10, 11, 20, 21, 1000, 1001, 1010, 1011, 1020, 1021 }, t4.ToArray<int>());
    }

    [Fact]
    public void From_arrays_of_long_and_bool_take_their_dtype()
    {
        Assert.Equal(DType.Int64, Tensor.From(new long[,] { { 1, 2 } }).DType);
        var mask = Tensor.From(new bool[,] { { true, false }, { false, true } });
        Assert.Equal(DType.Bool, mask.DType);
        Assert.Equal(new[] { true, false, false, true }, mask.ToArray<bool>());
        Assert.Equal(new Shape(0, 3), Tensor.From(new float[0, 3]).Shape);
    }

    [Fact]
    public void ToArray2D_to_4D_round_trip()
    {
        var a2 = new long[,] { { 1, 2, 3 }, { 4, 5, 6 } };
        Assert.Equal(a2, Tensor.From(a2).ToArray2D<long>());
        var a3 = new float[2, 2, 3];
        for (int i = 0; i < a3.Length; i++) a3[i / 6, i / 3 % 2, i % 3] = i * 0.5f;
        Assert.Equal(a3, Tensor.From(a3).ToArray3D<float>());
        var a4 = new bool[2, 2, 1, 2];
        a4[1, 0, 0, 1] = true;
        Assert.Equal(a4, Tensor.From(a4).ToArray4D<bool>());
    }

    [Fact]
    public void ToArray2D_reads_a_non_contiguous_view_in_logical_order()
    {
        var t = Tensor.From(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var transposed = t.AsStrided([3, 2], [1, 3], 0);
        Assert.Equal(new float[,] { { 1, 4 }, { 2, 5 }, { 3, 6 } }, transposed.ToArray2D<float>());
    }

    [Fact]
    public void ToArray2D_rejects_wrong_rank_and_dtype()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3, 4]).ToArray2D<float>());
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Contains("expected 2", ex.Message);
        Assert.Throws<KilnShapeException>(() => Tensor.Zeros([4]).ToArray4D<float>());
        Assert.Contains("float32", Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2, 2]).ToArray2D<double>()).Message);
    }
}
