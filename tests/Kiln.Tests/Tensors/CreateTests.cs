namespace Kiln.Tests.Tensors;

public sealed class CreateTests
{
    [Fact]
    public void Arange_of_integers_is_int64()
    {
        var t = Tensor.Arange(5);
        Assert.Equal(DType.Int64, t.DType);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, t.ToArray<long>());
        Assert.Equal(new long[] { 1, 4, 7 }, Tensor.Arange(1, 10, 3).ToArray<long>());
        Assert.Equal(new long[] { 1, 4, 7, 10 }, Tensor.Arange(1, 11, 3).ToArray<long>());
        Assert.Equal(new long[] { 10, 7, 4, 1 }, Tensor.Arange(10, 0, -3).ToArray<long>());
        Assert.Equal(new long[] { -2, -1 }, Tensor.Arange(-2, 0).ToArray<long>());
        Assert.Equal(0, Tensor.Arange(3, 3).NumElements);
        Assert.Equal(0, Tensor.Arange(0).NumElements);
    }

    [Fact]
    public void Arange_of_doubles_is_float32_with_ceil_length()
    {
        var t = Tensor.Arange(4.0);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new float[] { 0, 1, 2, 3 }, t.ToArray<float>());
        Assert.Equal(new float[] { 1, 1.5f, 2 }, Tensor.Arange(1, 2.5, 0.5).ToArray<float>());
        // ceil((1 - 0) / 0.3) = 4
        Assert.Equal(new float[] { 0, 0.3f, 0.6f, 0.9f }, Tensor.Arange(0, 1, 0.3).ToArray<float>());
        Assert.Equal(new float[] { 1, 0.75f, 0.5f, 0.25f }, Tensor.Arange(1, 0, -0.25).ToArray<float>());
        var tenths = Tensor.Arange(0.0, 1.0, 0.1, DType.Float64).ToArray<double>();
        Assert.Equal(10, tenths.Length);
        for (int i = 0; i < 10; i++) Assert.Equal(i * 0.1, tenths[i], 15);
    }

    [Fact]
    public void Arange_takes_a_dtype()
    {
        Assert.Equal(new double[] { 0, 2, 4 }, Tensor.Arange(0, 5, 2, DType.Float64).ToArray<double>());
        Assert.Equal(new int[] { 3, 2, 1 }, Tensor.Arange(3, 0, -1, DType.Int32).ToArray<int>());
        Assert.Equal(new long[] { 0, 1, 2 }, Tensor.Arange(0, 2.5, 1, DType.Int64).ToArray<long>());
    }

    [Fact]
    public void Arange_rejects_zero_and_wrong_way_steps()
    {
        Assert.Contains("nonzero", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, 0)).Message);
        Assert.Contains("opposite", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, -1)).Message);
        Assert.Contains("opposite", Assert.Throws<ArgumentException>(() => Tensor.Arange(0.0, -1.0, 0.5)).Message);
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0, double.PositiveInfinity, 1));
        Assert.Throws<KilnShapeException>(() => Tensor.Arange(0, long.MaxValue));
    }

    [Fact]
    public void Linspace_includes_both_ends()
    {
        var t = Tensor.Linspace(0, 1, 5);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new float[] { 0, 0.25f, 0.5f, 0.75f, 1 }, t.ToArray<float>());
        Assert.Equal(new double[] { 2, 1, 0, -1 }, Tensor.Linspace(2, -1, 4, DType.Float64).ToArray<double>());
        var odd = Tensor.Linspace(-3.7, 9.1, 7, DType.Float64).ToArray<double>();
        Assert.Equal(-3.7, odd[0]);
        Assert.Equal(9.1, odd[^1]);
        for (int i = 0; i < 7; i++) Assert.Equal(-3.7 + i * (12.8 / 6), odd[i], 12);
        Assert.Equal(new float[] { 4 }, Tensor.Linspace(4, 9, 1).ToArray<float>());
        Assert.Equal(0, Tensor.Linspace(0, 1, 0).NumElements);
        Assert.Equal(new long[] { 0, 2, 5, 7, 10 }, Tensor.Linspace(0, 10, 5, DType.Int64).ToArray<long>());
        Assert.Throws<ArgumentException>(() => Tensor.Linspace(0, 1, -1));
    }

    [Fact]
    public void Eye_has_ones_on_the_diagonal()
    {
        var square = Tensor.Eye(3);
        Assert.Equal(new Shape(3, 3), square.Shape);
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, square.ToArray<float>());
        var wide = Tensor.Eye(2, 4, DType.Int64);
        Assert.Equal(new Shape(2, 4), wide.Shape);
        Assert.Equal(new long[] { 1, 0, 0, 0, 0, 1, 0, 0 }, wide.ToArray<long>());
        var tall = Tensor.Eye(3, 2, DType.Bool);
        Assert.Equal(new[] { true, false, false, true, false, false }, tall.ToArray<bool>());
        Assert.Equal(new Shape(0, 0), Tensor.Eye(0).Shape);
        Assert.Throws<ArgumentException>(() => Tensor.Eye(-2));
    }

    [Fact]
    public void Zeros_with_an_empty_inner_dimension_is_contiguous()
    {
        var t = Tensor.Zeros([3, 0]);
        Assert.True(t.IsContiguous);
        Assert.Empty(t.ToArray<float>());
        Assert.Equal(new Shape(0, 0), Tensor.Ones([0, 0]).Shape);
    }
}
