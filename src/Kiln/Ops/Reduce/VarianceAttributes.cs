using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>
/// Attributes of Var and Std: the reduction (dimensions, keepDim) and the correction subtracted from
/// the element count in the divisor (1: the unbiased estimate, PyTorch's default; 0: the population variance).
/// </summary>
internal sealed record VarianceAttributes(ReduceAttributes Reduce, double Correction) : OpAttributes
{
    /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
    internal override void Write(AttributeWriter writer)
    {
        Reduce.Write(writer);
        writer.Float64(Correction);
    }

    internal static VarianceAttributes Read(AttributeReader reader) => new(ReduceAttributes.Read(reader), reader.Float64("correction"));

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<VarianceAttributes>.Reader = Read;

    /// <summary>Attributes for <paramref name="dims"/> (null or empty: all dimensions).</summary>
    internal static VarianceAttributes Create(int[]? dims, int rank, double correction, bool keepDim)
        => new(dims is null ? ReduceAttributes.All(keepDim) : ReduceAttributes.Create(dims, rank, keepDim), correction);

    /// <summary>max(0, n - correction): what the sum of squared deviations is divided by.</summary>
    internal double Divisor(Shape x) => Math.Max(0, Reduce.Count(x) - Correction);

    internal TensorSpec Infer(OpDef op, ReadOnlySpan<TensorSpec> inputs)
    {
        var dtype = ReduceAttributes.RequireDType(op, inputs, integers: false);
        return new TensorSpec(Reduce.OutputShape(op, inputs), dtype);
    }

    /// <summary>The naive two-pass reference: mean, then the corrected mean square deviation.</summary>
    internal Tensor Reference(OpDef op, Tensor x, bool sqrt) => Reduce.ReferenceReduce(op, x, values =>
    {
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Count;
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        double variance = squares / Math.Max(0, values.Count - Correction);
        return sqrt ? Math.Sqrt(variance) : variance;
    });

    internal static IEnumerable<OpSample> Samples() =>
    [
        // A single element has divisor n - 1 = 0: the result is NaN, and there is no gradient to check.
        .. ReduceAttributes.StandardSamples(-2, 2).Select(s => s with
        {
            Attributes = new VarianceAttributes((ReduceAttributes)s.Attributes, 1),
            CheckGradient = s.CheckGradient && s.Description != "scalar",
        }),
        new("correction 0", () => [OpSample.Uniform(91, -2, 2, 4, 6)], new VarianceAttributes(new ReduceAttributes(new IntList(1), false), 0)),
        new("correction 2 keep", () => [OpSample.Uniform(92, -2, 2, 5, 3)], new VarianceAttributes(new ReduceAttributes(new IntList(0), true), 2)),
        new("offset values", () => [OpSample.Uniform(93, 1000, 1001, 3, 8)], new VarianceAttributes(new ReduceAttributes(new IntList(1), false), 1))
            { Float32Tolerance = 2e-3 },
    ];

    internal static IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        .. ReduceAttributes.StandardInvalidSamples().Select(s => s with { Attributes = new VarianceAttributes((ReduceAttributes)s.Attributes, 1) }),
        new("int64 input", [new TensorSpec(new Shape(2, 3), DType.Int64)], new VarianceAttributes(ReduceAttributes.All(false), 1)),
    ];
}
