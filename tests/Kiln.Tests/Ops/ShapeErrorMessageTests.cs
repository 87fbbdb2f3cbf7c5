namespace Kiln.Tests.Ops;

/// <summary>Shape and dtype errors from the public entry points name the op, the shapes and the dtypes (DESIGN.md, Errors).</summary>
public sealed class ShapeErrorMessageTests
{
    private static void AssertMentions(Exception ex, params string[] parts)
    {
        foreach (var part in parts) Assert.True(ex.Message.Contains(part, StringComparison.Ordinal), $"\"{ex.Message}\" does not mention \"{part}\"");
    }

    [Fact]
    public void Add_of_shapes_that_do_not_broadcast_names_the_op_shapes_and_dtypes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]) + Tensor.Zeros([4]));
        AssertMentions(ex, "Add", "[2, 3]", "[4]", "float32", "broadcast");
    }

    [Fact]
    public void Mul_of_shapes_that_do_not_broadcast_names_the_op_shapes_and_dtypes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([5, 2], DType.Float64) * Tensor.Zeros([3, 1], DType.Float64));
        AssertMentions(ex, "Mul", "[5, 2]", "[3, 1]", "float64");
    }

    [Fact]
    public void In_place_add_that_would_change_the_shape_names_both_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([3]).AddInPlace(Tensor.Zeros([2, 3])));
        AssertMentions(ex, "Add", "[3]", "[2, 3]", "in-place");
    }

    [Fact]
    public void Reshape_to_a_wrong_element_count_names_the_op_the_shapes_and_the_count()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Reshape(4, 2));
        AssertMentions(ex, "Reshape", "[4, 2]", "[2, 3]", "float32", "6 elements");
    }

    [Fact]
    public void Reshape_with_two_inferred_dimensions_names_the_op()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Int64).Reshape(-1, -1));
        AssertMentions(ex, "Reshape", "[-1, -1]", "[2, 3]", "int64");
    }

    [Fact]
    public void Reshape_of_a_non_contiguous_view_with_a_wrong_count_names_the_op()
    {
        var strided = TestTensors.Strided(Tensor.Zeros([2, 3]));
        var ex = Assert.Throws<KilnShapeException>(() => strided.Reshape(5));
        AssertMentions(ex, "Reshape", "[5]", "[2, 3]", "float32");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-3)]
    [InlineData(17)]
    public void Sum_over_a_dimension_out_of_range_names_the_op_shape_dtype_and_dimension(int dim)
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Sum(dim));
        AssertMentions(ex, "Sum", "[2, 3]", "float32", dim.ToString(), "rank 2");
    }

    [Fact]
    public void Sum_over_a_repeated_dimension_names_the_op()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3], DType.Float64).Sum([1, -1]));
        AssertMentions(ex, "Sum", "[2, 3]", "float64", "twice");
    }

    [Fact]
    public void Sum_accepts_negative_and_scalar_dimensions()
    {
        var t = Tensor.From<float>([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal([6f, 15], t.Sum(-1).ToArray<float>());
        Assert.Equal([5f, 7, 9], t.Sum(-2).ToArray<float>());
        Assert.Equal(7f, Tensor.Scalar(7).Sum(0).Item<float>());
        Assert.Equal(7f, Tensor.Scalar(7).Sum(-1).Item<float>());
    }

    [Fact]
    public void Sum_over_a_missing_dimension_names_the_op_shape_and_dtype()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([4], DType.Int32).Sum(3));
        AssertMentions(ex, "Sum", "[4]", "int32");
    }

    [Fact]
    public void Expand_to_an_incompatible_shape_names_the_op_and_shapes()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2, 3]).Expand(4, 3));
        AssertMentions(ex, "Expand", "[2, 3]", "[4, 3]", "float32");
    }

    [Fact]
    public void Exp_of_an_integer_tensor_names_the_op_and_dtype()
    {
        var ex = Assert.Throws<KilnShapeException>(() => Tensor.Zeros([2], DType.Int32).Exp());
        AssertMentions(ex, "Exp", "[2]", "int32");
    }
}
