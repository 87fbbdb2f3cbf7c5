using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Models;

/// <summary>
/// The weighted true positives, false positives and false negatives behind Precision, Recall and
/// F1Score. Binary (no class count): every element is one decision, positive where the prediction is
/// above the threshold, truly positive where the target is not 0. With a class count C: the prediction
/// is class scores [N, C], its argmax the predicted class, the target integer class indices, and each
/// class keeps its own counts so the results are macro averages over the C classes.
/// </summary>
internal sealed class ConfusionCounts
{
    private readonly string _metric;
    private readonly double _threshold;
    private readonly double[] _truePositives;
    private readonly double[] _falsePositives;
    private readonly double[] _falseNegatives;

    internal ConfusionCounts(string metric, double threshold, int? numClasses)
    {
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"{metric}: threshold must be a number");
        if (numClasses is < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{metric}: numClasses must be at least 2 (leave it null for a binary metric)");
        _metric = metric;
        _threshold = threshold;
        NumClasses = numClasses;
        int slots = numClasses ?? 1;
        _truePositives = new double[slots];
        _falsePositives = new double[slots];
        _falseNegatives = new double[slots];
    }

    internal double Threshold => _threshold;

    internal int? NumClasses { get; }

    internal void Update(Tensor prediction, Tensor target, Tensor? sampleWeight)
    {
        MetricInputs.CheckPrediction(_metric, prediction, target);
        if (NumClasses is int classes) UpdateClasses(prediction, target, sampleWeight, classes);
        else UpdateBinary(prediction, target, sampleWeight);
    }

    internal void Reset()
    {
        Array.Clear(_truePositives);
        Array.Clear(_falsePositives);
        Array.Clear(_falseNegatives);
    }

    /// <summary>tp / (tp + fp), averaged over the classes.</summary>
    internal double Precision()
    {
        double sum = 0;
        for (int c = 0; c < _truePositives.Length; c++)
            sum += MetricInputs.Ratio(_truePositives[c], _truePositives[c] + _falsePositives[c]);
        return sum / _truePositives.Length;
    }

    /// <summary>tp / (tp + fn), averaged over the classes.</summary>
    internal double Recall()
    {
        double sum = 0;
        for (int c = 0; c < _truePositives.Length; c++)
            sum += MetricInputs.Ratio(_truePositives[c], _truePositives[c] + _falseNegatives[c]);
        return sum / _truePositives.Length;
    }

    /// <summary>2tp / (2tp + fp + fn) (the harmonic mean of precision and recall), averaged over the classes.</summary>
    internal double F1()
    {
        double sum = 0;
        for (int c = 0; c < _truePositives.Length; c++)
            sum += MetricInputs.Ratio(2 * _truePositives[c], 2 * _truePositives[c] + _falsePositives[c] + _falseNegatives[c]);
        return sum / _truePositives.Length;
    }

    private void UpdateBinary(Tensor prediction, Tensor target, Tensor? sampleWeight)
    {
        MetricInputs.CheckElementwise(_metric, prediction, target, "targets (0 or 1)");
        using var values = ContiguousData.Of(prediction, prediction.DType);
        using var truth = ContiguousData.Of(target, prediction.DType);
        using var weights = MetricInputs.Weights(_metric, sampleWeight, prediction.Size(0));
        int perSample = prediction.Size(0) == 0 ? 0 : prediction.NumElements / prediction.Size(0);
        if (prediction.DType == DType.Float32) CountBinary(values.Span<float>(), truth.Span<float>(), (float)_threshold, weights.Span<double>(), perSample);
        else CountBinary(values.Span<double>(), truth.Span<double>(), _threshold, weights.Span<double>(), perSample);
    }

    private void CountBinary<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> truth, T threshold, ReadOnlySpan<double> weights, int perSample)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double w = weights.IsEmpty ? 1 : weights[i / perSample];
            bool predicted = values[i] > threshold, actual = truth[i] != T.Zero;
            if (predicted && actual) tp += w;
            else if (predicted) fp += w;
            else if (actual) fn += w;
        }
        _truePositives[0] += tp;
        _falsePositives[0] += fp;
        _falseNegatives[0] += fn;
    }

    private void UpdateClasses(Tensor prediction, Tensor target, Tensor? sampleWeight, int classes)
    {
        if (prediction.Rank != 2 || prediction.Size(1) != classes)
            throw new KilnShapeException($"{_metric}: with numClasses = {classes} the prediction must be class scores [N, {classes}], got {MetricInputs.Describe(prediction)}");
        if (!MetricInputs.IsClassIndexTarget(prediction, target))
            throw new KilnShapeException($"{_metric}: with numClasses = {classes} the target must be class indices [{prediction.Size(0)}] (int64), got {MetricInputs.Describe(target)}");
        using var scores = ContiguousData.Of(prediction, prediction.DType);
        using var labels = MetricInputs.ClassIndices(_metric, target, classes);
        using var weights = MetricInputs.Weights(_metric, sampleWeight, prediction.Size(0));
        if (prediction.DType == DType.Float32) CountClasses(scores.Span<float>(), classes, labels.Span<long>(), weights.Span<double>());
        else CountClasses(scores.Span<double>(), classes, labels.Span<long>(), weights.Span<double>());
    }

    private void CountClasses<T>(ReadOnlySpan<T> scores, int classes, ReadOnlySpan<long> labels, ReadOnlySpan<double> weights)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int r = 0; r < labels.Length; r++)
        {
            int predicted = TensorPrimitives.IndexOfMax(scores.Slice(r * classes, classes));
            int actual = (int)labels[r];
            double w = weights.IsEmpty ? 1 : weights[r];
            if (predicted == actual)
            {
                _truePositives[actual] += w;
            }
            else
            {
                _falsePositives[predicted] += w;
                _falseNegatives[actual] += w;
            }
        }
    }
}
