namespace Kiln.Ops;

/// <summary>
/// One conformance case an op declares: how to make its inputs (float inputs in float64; the suite
/// also runs them in float32 and through non-contiguous views) and the attributes to call it with.
/// </summary>
internal sealed record OpSample(string Description, Func<Tensor[]> Inputs, OpAttributes Attributes)
{
    /// <summary>Inputs the gradient check perturbs (default: every floating-point input).</summary>
    internal int[]? GradInputs { get; init; }

    /// <summary>False for samples whose gradient is not defined at the sampled points.</summary>
    internal bool CheckGradient { get; init; } = true;

    /// <summary>Relative tolerance for the float32 forward against the float64 reference.</summary>
    internal double Float32Tolerance { get; init; } = 1e-4;

    /// <summary>A float64 tensor of uniform values in [low, high), reproducible from <paramref name="seed"/>.</summary>
    internal static Tensor Uniform(int seed, double low, double high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new double[Kiln.Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = low + (high - low) * rng.NextDouble();
        return Tensor.From<double>(data, shape);
    }

    /// <summary>An int64 tensor of values in [0, high), reproducible from <paramref name="seed"/>.</summary>
    internal static Tensor Indices(int seed, long high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new long[Kiln.Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextInt64(high);
        return Tensor.From<long>(data, shape);
    }
}

/// <summary>Inputs an op must refuse with a <see cref="KilnShapeException"/> that names it.</summary>
internal sealed record OpInvalidSample(string Description, TensorSpec[] Inputs, OpAttributes Attributes);
