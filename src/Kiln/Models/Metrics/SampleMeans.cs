using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Models;

/// <summary>What <see cref="SampleMeans"/> averages over each sample's elements.</summary>
internal enum ElementTerm
{
    /// <summary>The values themselves.</summary>
    Value,

    /// <summary>(prediction − target)².</summary>
    SquaredError,

    /// <summary>|prediction − target|.</summary>
    AbsoluteError,
}

/// <summary>
/// The per-sample weighted sums behind the mean metrics (Mean, MeanSquaredError, MeanAbsoluteError):
/// each sample's elements summed (through TensorPrimitives, a block at a time), times the sample's weight.
/// </summary>
internal static class SampleMeans
{
    private const int Block = 1024;

    /// <summary>
    /// Σₙ wₙ·Sₙ and Σₙ wₙ over the <paramref name="samples"/> samples (the first dimension) of <paramref name="values"/>,
    /// where Sₙ sums <paramref name="term"/> over sample n's elements (with <paramref name="targets"/> for the error
    /// terms) and wₙ is its weight (1 when <paramref name="weights"/> is empty).
    /// </summary>
    internal static (double Sum, double Weight) WeightedSums<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> targets, ElementTerm term, int samples,
        ReadOnlySpan<double> weights) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (samples == 0 || values.IsEmpty) return (0, 0);
        Span<T> scratch = stackalloc T[Block];
        if (weights.IsEmpty) return (Sum(values, targets, term, scratch), samples);
        int perSample = values.Length / samples;
        double sum = 0, weight = 0;
        for (int n = 0; n < samples; n++)
        {
            var range = new Range(n * perSample, (n + 1) * perSample);
            sum += weights[n] * Sum(values[range], term == ElementTerm.Value ? default : targets[range], term, scratch);
            weight += weights[n];
        }
        return (sum, weight);
    }

    /// <summary>
    /// The update of MeanSquaredError and MeanAbsoluteError: folds the batch's mean <paramref name="term"/> per
    /// sample into the running weighted sum <paramref name="total"/> over <paramref name="weight"/> (Keras
    /// reduces the last axis, then takes the sample-weighted mean).
    /// </summary>
    internal static void UpdateError(string metric, ElementTerm term, Tensor prediction, Tensor target, Tensor? sampleWeight, ref double total, ref double weight)
    {
        MetricInputs.CheckPrediction(metric, prediction, target);
        MetricInputs.CheckElementwise(metric, prediction, target, "values");
        int samples = prediction.Size(0);
        using var weights = MetricInputs.Weights(metric, sampleWeight, samples);
        if (prediction.NumElements == 0) return;
        using var values = ContiguousData.Of(prediction, prediction.DType);
        using var targets = ContiguousData.Of(target, prediction.DType);
        var (sum, batchWeight) = prediction.DType == DType.Float32
            ? WeightedSums(values.Span<float>(), targets.Span<float>(), term, samples, weights.Span<double>())
            : WeightedSums(values.Span<double>(), targets.Span<double>(), term, samples, weights.Span<double>());
        total += sum / (prediction.NumElements / samples);
        weight += batchWeight;
    }

    private static double Sum<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> targets, ElementTerm term, Span<T> scratch)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i += Block)
        {
            int length = Math.Min(Block, values.Length - i);
            var block = values.Slice(i, length);
            if (term == ElementTerm.Value)
            {
                sum += double.CreateTruncating(TensorPrimitives.Sum(block));
                continue;
            }
            var difference = scratch[..length];
            TensorPrimitives.Subtract(block, targets.Slice(i, length), difference);
            sum += double.CreateTruncating(term == ElementTerm.SquaredError
                ? TensorPrimitives.SumOfSquares<T>(difference)
                : TensorPrimitives.SumOfMagnitudes<T>(difference));
        }
        return sum;
    }
}
