using Kiln.NN;

namespace Kiln.Tests.Ops.Index;

public sealed class IndexSelectTests
{
    private static readonly float[,] Grid = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } };

    [Fact]
    public void IndexSelect_picks_rows_and_columns_in_index_order()
    {
        var x = Tensor.From(Grid);
        Assert.Equal(new float[,] { { 7, 8, 9 }, { 1, 2, 3 }, { 7, 8, 9 } }, x.IndexSelect(0, Tensor.From(new long[] { 2, 0, 2 })).ToArray2D<float>());
        Assert.Equal(new float[,] { { 3, 2 }, { 6, 5 }, { 9, 8 } }, x.IndexSelect(1, Tensor.From(new long[] { 2, 1 })).ToArray2D<float>());
        Assert.Equal(new float[,] { { 2 }, { 5 }, { 8 } }, x.IndexSelect(-1, Tensor.Scalar(1, DType.Int64)).ToArray2D<float>());
        Assert.Equal(new Shape(0, 3), x.IndexSelect(0, Tensor.Zeros([0], DType.Int64)).Shape);
    }

    [Fact]
    public void IndexSelect_matches_nested_loops_on_a_transposed_3d_input()
    {
        var rng = new Random(3);
        var data = new double[4, 5, 6];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) for (int k = 0; k < 6; k++) data[i, j, k] = rng.NextDouble();
        var x = Tensor.From(data);
        // view[i, j, k] = data[k, j, i]: shape [6, 5, 4]
        var view = x.AsStrided([6, 5, 4], [1, 6, 30], 0);
        long[] index = [4, 0, 0, 3];
        var actual = view.IndexSelect(1, Tensor.From(index)).ToArray3D<double>();
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < index.Length; j++)
                for (int k = 0; k < 4; k++)
                    Assert.Equal(data[k, index[j], i], actual[i, j, k]);
    }

    [Fact]
    public void IndexAdd_adds_source_slices_at_the_listed_positions()
    {
        var x = Tensor.Ones([3, 2]);
        var source = Tensor.From(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var result = x.IndexAdd(0, Tensor.From(new long[] { 2, 0, 2 }), source);
        Assert.Equal(new float[,] { { 4, 5 }, { 1, 1 }, { 7, 9 } }, result.ToArray2D<float>());
        Assert.Equal(new float[,] { { 1, 1 }, { 1, 1 }, { 1, 1 } }, x.ToArray2D<float>());
        x.IndexAddInPlace(1, Tensor.From(new long[] { 1 }), Tensor.From(new float[,] { { 10 }, { 20 }, { 30 } }));
        Assert.Equal(new float[,] { { 1, 11 }, { 1, 21 }, { 1, 31 } }, x.ToArray2D<float>());
    }

    [Theory]
    [InlineData(3L)]
    [InlineData(-1L)]
    public void IndexSelect_and_IndexAdd_name_the_bad_index_and_the_dimension_size(long bad)
    {
        var x = Tensor.From(Grid);
        var index = Tensor.From(new long[] { 0, bad });
        Assert.Contains($"IndexSelect: index {bad} is out of bounds for dimension 0 with size 3",
            Assert.Throws<ArgumentOutOfRangeException>(() => x.IndexSelect(0, index)).Message);
        Assert.Contains($"IndexAdd: index {bad} is out of bounds for dimension 1 with size 3",
            Assert.Throws<ArgumentOutOfRangeException>(() => x.IndexAdd(1, index, Tensor.Zeros([3, 2]))).Message);
    }

    [Fact]
    public void IndexSelect_backward_adds_gradient_rows_back()
    {
        var x = Tensor.Zeros([3, 2], DType.Float64);
        x.RequiresGrad = true;
        var y = x.IndexSelect(0, Tensor.From(new long[] { 1, 1, 0 }));
        (y * Tensor.From(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } })).Sum().Backward();
        Assert.Equal(new double[,] { { 5, 6 }, { 4, 6 }, { 0, 0 } }, x.Grad!.ToArray2D<double>());
    }

    [Fact]
    public void Embedding_looks_up_rows_for_any_index_shape()
    {
        var weight = Tensor.From(new float[,] { { 0, 0 }, { 1, 10 }, { 2, 20 }, { 3, 30 } });
        var indices = Tensor.From(new long[,] { { 3, 1, 1 }, { 0, 2, 3 } });
        var result = F.Embedding(indices, weight);
        Assert.Equal(new Shape(2, 3, 2), result.Shape);
        var values = result.ToArray3D<float>();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                long row = indices.ToArray2D<long>()[i, j];
                Assert.Equal(row, values[i, j, 0]);
                Assert.Equal(10 * row, values[i, j, 1]);
            }
    }

    [Fact]
    public void Embedding_gradient_sums_over_repeated_indices()
    {
        var weight = Tensor.Zeros([4, 3], DType.Float64);
        weight.RequiresGrad = true;
        F.Embedding(Tensor.From(new long[,] { { 2, 0 }, { 2, 2 } }), weight).Sum().Backward();
        Assert.Equal(new double[,] { { 1, 1, 1 }, { 0, 0, 0 }, { 3, 3, 3 }, { 0, 0, 0 } }, weight.Grad!.ToArray2D<double>());
    }

    [Fact]
    public void Embedding_rejects_bad_inputs()
    {
        var weight = Tensor.Zeros([4, 3]);
        Assert.Contains("int64", Assert.Throws<KilnShapeException>(() => F.Embedding(Tensor.Zeros([2]), weight)).Message);
        Assert.Contains("2-D", Assert.Throws<KilnShapeException>(() => F.Embedding(Tensor.Zeros([2], DType.Int64), Tensor.Zeros([4]))).Message);
        Assert.Contains("index 4 is out of bounds for dimension 0 with size 4",
            Assert.Throws<ArgumentOutOfRangeException>(() => F.Embedding(Tensor.From(new long[] { 4 }), weight)).Message);
    }

    [Fact]
    public void OneHot_marks_each_class()
    {
        var result = F.OneHot(Tensor.From(new long[] { 0, 2, 1, 2 }), 4);
        Assert.Equal(DType.Int64, result.DType);
        Assert.Equal(new long[,] { { 1, 0, 0, 0 }, { 0, 0, 1, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } }, result.ToArray2D<long>());

        var inferred = F.OneHot(Tensor.From(new long[,] { { 1 }, { 0 } }));
        Assert.Equal(new long[,,] { { { 0, 1 } }, { { 1, 0 } } }, inferred.ToArray3D<long>());

        Assert.Equal(new long[] { 0, 0, 1 }, F.OneHot(Tensor.Scalar(2, DType.Int64), 3).ToArray<long>());
        Assert.Equal(new Shape(0, 5), F.OneHot(Tensor.Zeros([0], DType.Int64), 5).Shape);
    }

    [Fact]
    public void OneHot_rejects_bad_classes()
    {
        Assert.Contains("class index 3 is out of range for 3 classes",
            Assert.Throws<ArgumentOutOfRangeException>(() => F.OneHot(Tensor.From(new long[] { 0, 3 }), 3)).Message);
        Assert.Contains("class index -1",
            Assert.Throws<ArgumentOutOfRangeException>(() => F.OneHot(Tensor.From(new long[] { -1 }))).Message);
        Assert.Throws<ArgumentException>(() => F.OneHot(Tensor.Zeros([0], DType.Int64)));
        Assert.Throws<KilnShapeException>(() => F.OneHot(Tensor.Zeros([2], DType.Int32), 3));
    }
}
