using Kiln.Optim;

namespace Kiln.Tests.Optim;

/// <summary>
/// Each optimizer follows PyTorch 1.13's trajectory on the fixed problem of <see cref="OptimizerProblem"/>:
/// parameter groups with their own options, weight decay, momentum, dampening, Nesterov, maximize, AMSGrad,
/// centered RMSprop, Adagrad's lr decay and initial accumulator, and a parameter without a gradient at one step.
/// </summary>
public sealed class OptimizerTrajectoryTests
{
    public static TheoryData<string, DType> CasesAndTypes()
    {
        var data = new TheoryData<string, DType>();
        foreach (var name in OptimizerProblem.Cases)
        {
            data.Add(name, DType.Float64);
            data.Add(name, DType.Float32);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CasesAndTypes))]
    public void Optimizer_trajectory_matches_pytorch(string name, DType dtype)
    {
        var expected = Expected(name, dtype);
        using var problem = new OptimizerProblem(dtype);
        using var optimizer = problem.Make(name);
        // float64 agrees to rounding (PyTorch fuses some multiply-adds); float32 within 1e-6 relative.
        double rtol = dtype == DType.Float64 ? 1e-12 : 1e-6;
        for (int step = 0; step < expected.Length; step++)
        {
            problem.SetGradients(step);
            optimizer.Step();
            AssertClose(expected[step], problem.Values(), rtol, $"{name} {dtype.Name()} step {step + 1}");
        }
    }

    /// <summary>The PyTorch values of case <paramref name="name"/> for <paramref name="dtype"/>, as float64.</summary>
    internal static double[][] Expected(string name, DType dtype)
    {
        string field = name + (dtype == DType.Float64 ? "Float64" : "Float32");
        var value = typeof(OptimizerTrajectories).GetField(field, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)?.GetValue(null)
            ?? throw new InvalidOperationException($"no reference {field}");
        return value switch
        {
            double[][] d => d,
            float[][] f => f.Select(row => row.Select(v => (double)v).ToArray()).ToArray(),
            _ => throw new InvalidOperationException(field),
        };
    }

    internal static void AssertClose(double[] expected, double[] actual, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= rtol * Math.Abs(expected[i]),
                $"{what}, value {i}: expected {expected[i]:R}, got {actual[i]:R} (relative error {error / Math.Abs(expected[i]):E2})");
        }
    }
}
