using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Models;

/// <summary>
/// Counts the rows of a batch of class scores [N, C] whose true class the model predicted: the row's
/// highest score (argmax, first on ties), or among its k highest. Shared by the accuracy metrics.
/// </summary>
internal static class ClassScores
{
    /// <summary>
    /// The weighted number of rows of <paramref name="prediction"/> [N, C] whose true class is predicted, and the
    /// weight of all rows. The true class is <paramref name="target"/>'s integer index ([N] or [N, 1]) or, where
    /// <paramref name="acceptOneHot"/>, the argmax of a target of the prediction's shape (one-hot or probabilities).
    /// <paramref name="k"/> 0 compares argmaxes; k ≥ 1 asks for the top k, where classes tied with the k-th score
    /// count as in it (as tf.math.in_top_k) and a NaN score for the true class never does.
    /// </summary>
    internal static (double Hits, double Weight) Count(string metric, Tensor prediction, Tensor target, Tensor? sampleWeight, int k, bool acceptOneHot)
    {
        MetricInputs.CheckPrediction(metric, prediction, target);
        if (prediction.Rank != 2 || prediction.Size(1) == 0)
            throw new KilnShapeException($"{metric}: the prediction must be class scores [N, C] with C >= 1, got {MetricInputs.Describe(prediction)}");
        int classes = prediction.Size(1);
        if (k > classes)
            throw new KilnShapeException($"{metric}: k = {k} is more than the {classes} classes of the prediction {MetricInputs.Describe(prediction)}");
        bool indices = MetricInputs.IsClassIndexTarget(prediction, target);
        if (!indices && !(acceptOneHot && target.Shape == prediction.Shape))
        {
            string expected = acceptOneHot
                ? $"class indices [{prediction.Size(0)}] (int64) or one-hot scores {prediction.Shape}"
                : $"class indices [{prediction.Size(0)}] (int64)";
            throw new KilnShapeException($"{metric}: the prediction {MetricInputs.Describe(prediction)} holds scores for {classes} classes, so the target must be {expected}; got {MetricInputs.Describe(target)}");
        }
        using var scores = ContiguousData.Of(prediction, prediction.DType);
        using var labels = indices ? MetricInputs.ClassIndices(metric, target, classes) : default;
        using var oneHot = indices ? default : ContiguousData.Of(target, prediction.DType);
        using var weights = MetricInputs.Weights(metric, sampleWeight, prediction.Size(0));
        return prediction.DType == DType.Float32
            ? Count(scores.Span<float>(), classes, labels.Span<long>(), oneHot.Span<float>(), k, weights.Span<double>())
            : Count(scores.Span<double>(), classes, labels.Span<long>(), oneHot.Span<double>(), k, weights.Span<double>());
    }

    private static (double Hits, double Weight) Count<T>(ReadOnlySpan<T> scores, int classes, ReadOnlySpan<long> indices, ReadOnlySpan<T> oneHot,
        int k, ReadOnlySpan<double> weights) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int rows = scores.Length / classes;
        double hits = 0, total = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = scores.Slice(r * classes, classes);
            int truth = indices.IsEmpty ? TensorPrimitives.IndexOfMax(oneHot.Slice(r * classes, classes)) : (int)indices[r];
            double w = weights.IsEmpty ? 1 : weights[r];
            total += w;
            bool hit = k == 0 ? TensorPrimitives.IndexOfMax(row) == truth : !T.IsNaN(row[truth]) && CountGreater(row, row[truth]) < k;
            if (hit) hits += w;
        }
        return (hits, total);
    }

    /// <summary>How many elements of <paramref name="row"/> are greater than <paramref name="value"/>, a vector at a time.</summary>
    private static int CountGreater<T>(ReadOnlySpan<T> row, T value) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int i = 0, count = 0;
        if (Vector.IsHardwareAccelerated && row.Length >= Vector<T>.Count)
        {
            var threshold = new Vector<T>(value);
            var counts = Vector<T>.Zero;
            for (; i <= row.Length - Vector<T>.Count; i += Vector<T>.Count)
                counts += Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(row.Slice(i)), threshold), Vector<T>.One, Vector<T>.Zero);
            count = int.CreateTruncating(Vector.Sum(counts));
        }
        for (; i < row.Length; i++)
            if (row[i] > value) count++;
        return count;
    }
}
