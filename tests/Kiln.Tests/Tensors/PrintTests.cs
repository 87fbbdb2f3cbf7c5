namespace Kiln.Tests.Tensors;

/// <summary>
/// Tensor.ToString against strings worked out from PyTorch's printing rules (torch/_tensor_str.py)
/// and Python's number formatting; dtypes print as Kiln names ("float64", not "torch.float64").
/// </summary>
public sealed class PrintTests
{
    private static Tensor F32(float[] data, params int[] shape) => Tensor.From<float>(data, shape);

    private static Tensor Range(int n, DType dtype, params int[] shape)
    {
        var data = new double[n];
        for (int i = 0; i < n; i++) data[i] = i;
        return Tensor.From<double>(data, shape).To(dtype);
    }

    [Fact]
    public void Matrix_with_fractions_prints_four_decimals_on_aligned_rows()
        => Assert.Equal("tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])", F32([1.5f, 2, 3, 4], 2, 2).ToString());

    [Fact]
    public void Integer_valued_floats_print_with_a_trailing_point()
        => Assert.Equal("tensor([[1., 2.],\n        [3., 4.]])", F32([1, 2, 3, 4], 2, 2).ToString());

    [Fact]
    public void Zero_dimensional_tensors_print_the_bare_value()
    {
        Assert.Equal("tensor(3.5000)", Tensor.Scalar(3.5).ToString());
        Assert.Equal("tensor(3)", Tensor.Scalar(3, DType.Int64).ToString());
    }

    [Fact]
    public void Int64_and_bool_are_default_dtypes_and_others_are_named()
    {
        Assert.Equal("tensor([0, 1, 2])", Range(3, DType.Int64, 3).ToString());
        Assert.Equal("tensor([1., 2.], dtype=float64)", Tensor.From<double>([1, 2], 2).ToString());
        Assert.Equal("tensor([  1, -20], dtype=int32)", Tensor.From<int>([1, -20], 2).ToString());
        Assert.Equal("tensor([1, 2], dtype=uint8)", Tensor.From<byte>([1, 2], 2).ToString());
        Assert.Equal("tensor([-3,  2], dtype=int8)", Tensor.From<sbyte>([-3, 2], 2).ToString());
    }

    [Fact]
    public void Bools_print_as_python_does_right_aligned()
        => Assert.Equal("tensor([ True, False,  True])", Tensor.From<bool>([true, false, true], 3).ToString());

    [Fact]
    public void Autograd_state_is_a_suffix()
    {
        var x = F32([1.5f], 1);
        x.RequiresGrad = true;
        Assert.Equal("tensor([1.5000], requires_grad=True)", x.ToString());
        Assert.Equal("tensor([3.], grad_fn=<MulBackward>)", (x * 2).ToString());
        var s = Tensor.Scalar(2);
        s.RequiresGrad = true;
        Assert.Equal("tensor(2., requires_grad=True)", s.ToString());
        var m = F32([0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f], 2, 3);
        m.RequiresGrad = true;
        var zero = F32([0, 0, 0, 0, 0, 0], 2, 3);
        Assert.Equal("tensor([[0.1000, 0.2000, 0.3000],\n        [0.4000, 0.5000, 0.6000]], grad_fn=<AddBackward>)", (m + zero).ToString());
    }

    [Fact]
    public void Empty_tensors_show_their_size_unless_one_dimensional()
    {
        Assert.Equal("tensor([], size=(0, 3))", Tensor.Zeros([0, 3]).ToString());
        Assert.Equal("tensor([])", Tensor.Zeros([0]).ToString());
        Assert.Equal("tensor([], dtype=int64)", Tensor.Zeros([0], DType.Int64).ToString());
        Assert.Equal("tensor([], size=(2, 0), dtype=float64)", Tensor.Zeros([2, 0], DType.Float64).ToString());
    }

    [Fact]
    public void Wide_ranges_switch_to_scientific_notation()
    {
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00])", F32([1e-5f, 1], 2).ToString());
        Assert.Equal("tensor([1.0000e+00, 1.0000e+10])", F32([1, 1e10f], 2).ToString());
        Assert.Equal("tensor([1.2346e+05, 5.0000e-01], dtype=float64)", Tensor.From<double>([123456.789, 0.5], 2).ToString());
    }

    [Fact]
    public void Nonfinite_and_zero_values_do_not_set_the_format()
    {
        Assert.Equal("tensor([-1.5000,     nan,     inf])", F32([-1.5f, float.NaN, float.PositiveInfinity], 3).ToString());
        Assert.Equal("tensor([0., 0.])", F32([0, 0], 2).ToString());
        Assert.Equal("tensor([0., inf])", F32([0, float.PositiveInfinity], 2).ToString());
        Assert.Equal("tensor([-0.0000, 0.2500])", F32([-0f, 0.25f], 2).ToString());
    }

    [Fact]
    public void Exact_ties_round_half_to_even_as_python_does()
        => Assert.Equal("tensor([0.0312, 1.0000], dtype=float64)", Tensor.From<double>([0.03125, 1], 2).ToString());

    [Fact]
    public void Three_dimensional_tensors_leave_a_blank_line_between_blocks()
        => Assert.Equal("tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])", Range(8, DType.Int64, 2, 2, 2).ToString());

    [Fact]
    public void Long_vectors_wrap_at_80_columns()
        => Assert.Equal(
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n" +
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n" +
            "        28., 29.])",
            Range(30, DType.Float32, 30).ToString());

    [Fact]
    public void A_suffix_that_does_not_fit_goes_on_its_own_line()
        => Assert.Equal(
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n       dtype=float64)",
            Range(14, DType.Float64, 14).ToString());

    [Fact]
    public void More_than_1000_elements_show_three_at_each_edge()
        => Assert.Equal("tensor([   0,    1,    2,  ..., 1997, 1998, 1999])", Range(2000, DType.Int64, 2000).ToString());

    [Fact]
    public void Elided_matrix_shows_edge_rows_and_columns()
        => Assert.Equal(
            "tensor([[   0,    1,    2,  ...,   27,   28,   29],\n" +
            "        [  30,   31,   32,  ...,   57,   58,   59],\n" +
            "        [  60,   61,   62,  ...,   87,   88,   89],\n" +
            "        ...,\n" +
            "        [1110, 1111, 1112,  ..., 1137, 1138, 1139],\n" +
            "        [1140, 1141, 1142,  ..., 1167, 1168, 1169],\n" +
            "        [1170, 1171, 1172,  ..., 1197, 1198, 1199]])",
            Range(1200, DType.Int64, 40, 30).ToString());

    [Fact]
    public void Elided_floats_choose_their_format_from_the_shown_values_only()
        => Assert.Equal(
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
            Range(2000, DType.Float32, 2000).ToString());

    [Fact]
    public void Views_print_their_own_elements()
    {
        var x = Range(6, DType.Int64, 2, 3);
        Assert.Equal("tensor([[0, 3],\n        [1, 4],\n        [2, 5]])", x.T.ToString());
        Assert.Equal("tensor([1, 4])", x[.., 1].ToString());
    }

    [Fact]
    public void A_disposed_tensor_still_prints()
    {
        var x = Tensor.Zeros([2, 3]);
        x.Dispose();
        Assert.Equal("tensor(<disposed>, size=(2, 3))", x.ToString());
    }

    [Theory]
    [InlineData(0.03125, "0.0312", "0", "3.1250e-02")]
    [InlineData(0.09375, "0.0938", "0", "9.3750e-02")]
    [InlineData(2.5, "2.5000", "2", "2.5000e+00")]
    [InlineData(3.5, "3.5000", "4", "3.5000e+00")]
    [InlineData(-0.0, "-0.0000", "-0", "-0.0000e+00")]
    [InlineData(1e-5, "0.0000", "0", "1.0000e-05")]
    [InlineData(123456789.0, "123456789.0000", "123456789", "1.2346e+08")]
    [InlineData(0.00015, "0.0001", "0", "1.5000e-04")]
    [InlineData(9.99995, "10.0000", "10", "1.0000e+01")]
    [InlineData(99999.5, "99999.5000", "100000", "1.0000e+05")]
    [InlineData(1e-100, "0.0000", "0", "1.0000e-100")]
    [InlineData(5e-324, "0.0000", "0", "4.9407e-324")]
    [InlineData(-2.5e-7, "-0.0000", "-0", "-2.5000e-07")]
    [InlineData(2.675, "2.6750", "3", "2.6750e+00")]
    public void Number_formats_match_python(double value, string fixed4, string fixed0, string scientific4)
    {
        // Expected strings are Python's '{:.4f}', '{:.0f}' and '{:.4e}' of the same doubles.
        Assert.Equal(fixed4, TensorPrinter.Fixed(value, 4));
        Assert.Equal(fixed0, TensorPrinter.Fixed(value, 0));
        Assert.Equal(scientific4, TensorPrinter.Scientific(value, 4));
    }
}
