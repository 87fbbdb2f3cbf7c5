using System.Runtime.Intrinsics;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>erf / erfc against the C library's values (taken from Python's math.erf / math.erfc), in every form and both precisions.</summary>
public sealed class ElementwiseErrorFunctionKernelTests
{
    public static TheoryData<double, double> ErfValues() => new()
    {
        { 0.0, 0.0 },
        { 1e-10, 1.1283791670955126e-10 },
        { 0.5, 0.5204998778130465 },
        { 1.0, 0.8427007929497149 },
        { -2.0, -0.9953222650189527 },
        { 2.5, 0.999593047982555 },
        { 3.0, 0.9999779095030014 },
        { double.PositiveInfinity, 1.0 },
        { double.NegativeInfinity, -1.0 },
    };

    public static TheoryData<double, double> ErfcValues() => new()
    {
        { -1.0, 1.842700792949715 },
        { 1.999, 0.004698443348629488 },
        { 2.0, 0.004677734981047265 },
        { 4.0, 1.541725790028002e-08 },
        { 5.0, 1.5374597944280351e-12 },
        { 10.0, 2.088487583762545e-45 },
        { 26.0, 5.663192408856143e-296 },
        { 30.0, 0.0 },
        { double.PositiveInfinity, 0.0 },
        { double.NegativeInfinity, 2.0 },
    };

    private static void AssertRelative(double expected, double actual, double tolerance, string what)
        => Assert.True(expected == actual || Math.Abs(actual - expected) <= tolerance * Math.Abs(expected),
            $"{what}: {actual:G17}, expected {expected:G17}");

    [Theory]
    [MemberData(nameof(ErfValues))]
    public void Erf_matches_the_c_library_in_scalar_and_vector_forms(double x, double expected)
    {
        AssertRelative(expected, ErrorFunction.Erf(x), 1e-14, "scalar");
        AssertRelative(expected, ErrorFunction.Erf((float)x), 3e-7, "float scalar");
        AssertRelative(expected, ErrorFunction.Erf(Vector256.Create((float)x)).GetElement(5), 3e-7, "float Vector256");
        AssertRelative(expected, ErrorFunction.Erf(Vector512.Create((float)x)).GetElement(9), 3e-7, "float Vector512");
        for (int lane = 0; lane < Vector256<double>.Count; lane++)
            AssertRelative(expected, ErrorFunction.Erf(Vector256.Create(0.25).WithElement(lane, x)).GetElement(lane), 1e-14, "Vector256");
        for (int lane = 0; lane < Vector512<double>.Count; lane++)
            AssertRelative(expected, ErrorFunction.Erf(Vector512.Create(3.5).WithElement(lane, x)).GetElement(lane), 1e-14, "Vector512");
    }

    [Theory]
    [MemberData(nameof(ErfcValues))]
    public void Erfc_keeps_relative_accuracy_in_the_tail(double x, double expected)
    {
        AssertRelative(expected, ErrorFunction.Erfc(x), 2e-13, "scalar");
        // float holds values down to 1.4e-45; beyond that erfc underflows to 0 (or a subnormal).
        if (Math.Abs(expected) > 1e-37 || expected == 0)
        {
            AssertRelative(expected, ErrorFunction.Erfc((float)x), 1e-6, "float scalar");
            AssertRelative(expected, ErrorFunction.Erfc(Vector256.Create((float)x)).GetElement(2), 1e-6, "float Vector256");
            AssertRelative(expected, ErrorFunction.Erfc(Vector512.Create((float)x)).GetElement(11), 1e-6, "float Vector512");
        }
        for (int lane = 0; lane < Vector256<double>.Count; lane++)
            AssertRelative(expected, ErrorFunction.Erfc(Vector256.Create(0.25).WithElement(lane, x)).GetElement(lane), 2e-13, "Vector256");
        for (int lane = 0; lane < Vector512<double>.Count; lane++)
            AssertRelative(expected, ErrorFunction.Erfc(Vector512.Create(-4.0).WithElement(lane, x)).GetElement(lane), 2e-13, "Vector512");
    }

    [Fact]
    public void Erf_and_erfc_keep_nan()
    {
        Assert.True(double.IsNaN(ErrorFunction.Erf(double.NaN)));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(double.NaN)));
        var mixed = Vector256.Create(double.NaN, 0.5, 3, -30);
        Assert.True(double.IsNaN(ErrorFunction.Erf(mixed).GetElement(0)));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(mixed).GetElement(0)));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(Vector512.Create(double.NaN)).GetElement(3)));
    }

    [Fact]
    public void Vector_forms_agree_with_the_scalar_twin_across_the_range()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 2000; trial++)
        {
            var values = new double[8];
            for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * 16;
            var v256 = Vector256.Create(values[0], values[1], values[2], values[3]);
            var v512 = Vector512.Create(values);
            for (int i = 0; i < 4; i++)
            {
                AssertRelative(ErrorFunction.Erf(values[i]), ErrorFunction.Erf(v256).GetElement(i), 1e-14, $"erf({values[i]:R})");
                AssertRelative(ErrorFunction.Erfc(values[i]), ErrorFunction.Erfc(v256).GetElement(i), 1e-14, $"erfc({values[i]:R})");
            }
            for (int i = 0; i < 8; i++)
                AssertRelative(ErrorFunction.Erfc(values[i]), ErrorFunction.Erfc(v512).GetElement(i), 1e-14, $"erfc({values[i]:R})");
        }
    }
}
