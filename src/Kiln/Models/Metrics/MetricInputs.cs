namespace Kiln.Models;

/// <summary>
/// The checks and reads every built-in metric makes on a batch, in one place so their errors read alike:
/// each names the metric, the shapes and dtypes it got, and what it expected.
/// </summary>
internal static class MetricInputs
{
    /// <summary>"[4, 3] float32".</summary>
    internal static string Describe(Tensor t) => $"{t.Shape} {t.DType.Name()}";

    /// <summary>Throws unless <paramref name="prediction"/> holds float32 or float64 values with a batch dimension.</summary>
    internal static void CheckPrediction(string metric, Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.DType.IsFloatingPoint())
            throw new KilnShapeException($"{metric}: the prediction must be float32 or float64, got {Describe(prediction)}");
        if (prediction.Rank == 0)
            throw new KilnShapeException($"{metric}: the prediction needs a batch dimension, got a scalar ({Describe(prediction)})");
    }

    /// <summary>Whether two shapes pair element by element: equal, or one is the other with a trailing 1 ([N] and [N, 1]).</summary>
    internal static bool AreElementwise(Shape a, Shape b)
    {
        if (a == b) return true;
        var (longer, shorter) = a.Rank > b.Rank ? (a, b) : (b, a);
        return longer.Rank == shorter.Rank + 1 && longer[^1] == 1 && longer.AsSpan()[..^1].SequenceEqual(shorter.AsSpan());
    }

    /// <summary>Throws unless <paramref name="target"/> pairs with <paramref name="prediction"/> element by element.</summary>
    internal static void CheckElementwise(string metric, Tensor prediction, Tensor target, string expected)
    {
        if (!AreElementwise(prediction.Shape, target.Shape))
            throw new KilnShapeException($"{metric}: the target {Describe(target)} does not match the prediction {Describe(prediction)}; expected {expected} of the prediction's shape");
    }

    /// <summary>Whether <paramref name="target"/> holds one integer class index per row of the [N, C] <paramref name="prediction"/>: [N] or [N, 1].</summary>
    internal static bool IsClassIndexTarget(Tensor prediction, Tensor target)
    {
        if (prediction.Rank != 2 || !target.DType.IsInteger()) return false;
        int n = prediction.Size(0);
        return (target.Rank == 1 && target.Size(0) == n) || (target.Rank == 2 && target.Size(0) == n && target.Size(1) == 1);
    }

    /// <summary>The class indices of <paramref name="target"/> as int64, each checked to lie in [0, <paramref name="classes"/>).</summary>
    internal static ContiguousData ClassIndices(string metric, Tensor target, int classes)
    {
        var data = ContiguousData.Of(target, DType.Int64);
        var labels = data.Span<long>();
        for (int i = 0; i < labels.Length; i++)
        {
            if ((ulong)labels[i] < (ulong)classes) continue;
            long bad = labels[i];
            data.Dispose();
            throw new KilnException($"{metric}: target {bad} of sample {i} is not a class index in [0, {classes})");
        }
        return data;
    }

    /// <summary>The per-sample weights as float64 ([N] or [N, 1]), or empty when <paramref name="sampleWeight"/> is null.</summary>
    internal static ContiguousData Weights(string metric, Tensor? sampleWeight, int samples)
    {
        if (sampleWeight is null) return default;
        bool oneEach = (sampleWeight.Rank == 1 && sampleWeight.Size(0) == samples)
                       || (sampleWeight.Rank == 2 && sampleWeight.Size(0) == samples && sampleWeight.Size(1) == 1);
        if (!oneEach)
            throw new KilnShapeException($"{metric}: sampleWeight {Describe(sampleWeight)} must hold one weight per sample: [{samples}]");
        return ContiguousData.Of(sampleWeight, DType.Float64);
    }

    /// <summary>A/B, or 0 when B is 0 (Keras's divide_no_nan: a metric that has seen nothing reads 0).</summary>
    internal static double Ratio(double numerator, double denominator) => denominator == 0 ? 0 : numerator / denominator;
}
