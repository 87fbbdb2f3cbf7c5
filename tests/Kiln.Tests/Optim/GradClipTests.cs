using Kiln.Optim;

namespace Kiln.Tests.Optim;

/// <summary>Gradient clipping equals PyTorch 1.13's clip_grad_norm_ and clip_grad_value_ (ClipReference).</summary>
public sealed class GradClipTests
{
    private static readonly double[][] Grads =
    [
        Enumerable.Range(0, 15).Select(i => (0.3 + 0.17 * i) * (i % 3 != 0 ? 1 : -1)).ToArray(),
        Enumerable.Range(0, 7).Select(i => -1.1 + 0.4 * i).ToArray(),
        [2.5, -0.5, 0.0, 1.25],
    ];

    private static readonly int[][] Shapes = [[3, 5], [7], [2, 2]];

    private static Tensor[] Parameters(DType dtype, bool partial)
    {
        var ps = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            ps[i] = Tensor.Zeros(Shapes[i], dtype);
            ps[i].RequiresGrad = true;
            if (!(partial && i == 2)) ps[i].Grad = OptimizerProblem.Create(Grads[i], Shapes[i], dtype);
        }
        return ps;
    }

    private static double[] Expected(string field)
    {
        var value = typeof(ClipReference).GetField(field, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null);
        return value is float[] f ? f.Select(v => (double)v).ToArray() : (double[])value!;
    }

    public static TheoryData<string, double, double, DType> NormCases()
    {
        var data = new TheoryData<string, double, double, DType>();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            data.Add("L2", 1.0, 2.0, dtype);
            data.Add("L2Large", 100.0, 2.0, dtype);
            data.Add("L1", 2.0, 1.0, dtype);
            data.Add("Infinity", 0.5, double.PositiveInfinity, dtype);
            data.Add("L3", 1.5, 3.0, dtype);
            data.Add("Half", 4.0, 0.5, dtype);
            data.Add("L2Partial", 1.0, 2.0, dtype);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void Clip_grad_norm_matches_pytorch(string name, double maxNorm, double normType, DType dtype)
    {
        var expected = Expected($"Norm{name}{(dtype == DType.Float64 ? "Float64" : "Float32")}");
        var ps = Parameters(dtype, name.EndsWith("Partial", StringComparison.Ordinal));
        double total = GradClip.ClipGradNorm(ps, maxNorm, normType);
        double[] actual = [total, .. ps.Where(p => p.Grad is not null).SelectMany(p => TestTensors.Values(p.Grad!))];
        double rtol = dtype == DType.Float64 ? 1e-13 : 1e-6;
        OptimizerTrajectoryTests.AssertClose(expected, actual, rtol, $"ClipGradNorm {name} {dtype.Name()}");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void Clip_grad_value_matches_pytorch(DType dtype)
    {
        var expected = Expected(dtype == DType.Float64 ? "ValueFloat64" : "ValueFloat32");
        var ps = Parameters(dtype, partial: false);
        GradClip.ClipGradValue(ps, 1.3);
        Assert.Equal(expected, ps.SelectMany(p => TestTensors.Values(p.Grad!)));
    }

    [Fact]
    public void Clip_grad_norm_without_gradients_returns_zero_and_handles_strided_gradients()
    {
        var p = Tensor.Zeros([4, 3]);
        Assert.Equal(0, GradClip.ClipGradNorm([p], 1.0));
        // A transposed (non-contiguous) gradient: same norm and scaling as its contiguous copy.
        p.Grad = Tensor.From<double>([3, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0], 3, 4).Transpose(0, 1);
        Assert.False(p.Grad.IsContiguous);
        Assert.Equal(5, GradClip.ClipGradNorm([p], 1.0), 12);
        Assert.Equal(1.0, Math.Sqrt(TestTensors.Values(p.Grad).Sum(v => v * v)), 5);
    }

    [Fact]
    public void Clip_grad_norm_refuses_a_non_finite_norm_when_asked()
    {
        var p = Tensor.Zeros([3]);
        p.Grad = Tensor.From<float>([1, float.PositiveInfinity, 2]);
        var e = Assert.Throws<KilnException>(() => GradClip.ClipGradNorm([p], 1.0, errorIfNonfinite: true));
        Assert.Contains("norm of order 2 of the gradients is Infinity", e.Message);
        Assert.Contains("errorIfNonfinite: false", e.Message);
        Assert.Equal([1f, float.PositiveInfinity, 2f], p.Grad.ToArray<float>());
        // Without the check, PyTorch's arithmetic: the coefficient is 0, so finite values become 0 and ∞·0 is NaN.
        Assert.Equal(double.PositiveInfinity, GradClip.ClipGradNorm([p], 1.0));
        var clipped = p.Grad.ToArray<float>();
        Assert.Equal(0f, clipped[0]);
        Assert.True(float.IsNaN(clipped[1]));
    }
}
