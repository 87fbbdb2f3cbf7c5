namespace Kiln.IO;

/// <summary>
/// The contents of a TensorBoard HistogramProto: min, max, count, sum and sum of squares of the
/// values, and buckets as parallel arrays of upper limits and counts. Bucket <c>i</c> holds the
/// values <c>v</c> with <c>limit[i-1] &lt;= v &lt; limit[i]</c> (the first bucket starts at
/// -double.MaxValue), so the counts add up to the number of values.
/// <para>
/// Two bucketings: by default TensorFlow's exponential buckets (limits ±1e-12·1.1^k up to 1e20,
/// plus 0 and ±double.MaxValue, as <c>tf.summary.histogram</c>'s C++ Histogram uses), with every
/// run of empty buckets merged into one, as TensorFlow writes them; fine near zero and relative in
/// width everywhere, so weights of any scale look right. With a bin count, that many equal-width
/// bins between the smallest and largest value (the last bin also holds the largest value; when all
/// values are equal the bins span value ± 0.5, as NumPy does), each written even when empty.
/// </para>
/// </summary>
internal sealed class HistogramSummary
{
    private static readonly double[] DefaultLimits = BuildDefaultLimits();

    private HistogramSummary(double min, double max, double num, double sum, double sumSquares, double[] bucketLimits, double[] buckets)
    {
        Min = min;
        Max = max;
        Num = num;
        Sum = sum;
        SumSquares = sumSquares;
        BucketLimits = bucketLimits;
        Buckets = buckets;
    }

    public double Min { get; }
    public double Max { get; }
    public double Num { get; }
    public double Sum { get; }
    public double SumSquares { get; }

    /// <summary>The upper limit of each bucket (exclusive, except the last of a fixed bin count).</summary>
    public double[] BucketLimits { get; }

    /// <summary>The number of values in each bucket.</summary>
    public double[] Buckets { get; }

    /// <summary>
    /// The histogram of <paramref name="values"/> with TensorFlow's exponential buckets (<paramref name="bins"/> null) or
    /// <paramref name="bins"/> equal-width bins. Throws <see cref="ArgumentException"/> for no values, a NaN or infinite value, or bins below 1.
    /// </summary>
    public static HistogramSummary Create(ReadOnlySpan<double> values, int? bins, string what)
    {
        if (Problem(values, bins) is { } problem) throw new ArgumentException($"{what}: {problem}", nameof(values));
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSquares = 0;
        foreach (double v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
            sumSquares += v * v;
        }
        var (limits, counts) = bins is int n ? EqualWidth(values, n, min, max) : Exponential(values);
        return new HistogramSummary(min, max, values.Length, sum, sumSquares, limits, counts);
    }

    /// <summary>Why <paramref name="values"/> cannot make a histogram, or null when they can.</summary>
    public static string? Problem(ReadOnlySpan<double> values, int? bins)
    {
        if (bins is < 1) return $"bins must be at least 1 (got {bins})";
        if (values.IsEmpty) return "a histogram needs at least one value";
        int bad = 0;
        foreach (double v in values)
            if (!double.IsFinite(v)) bad++;
        return bad == 0 ? null : $"{bad} of {values.Length} values are NaN or infinite; a histogram needs finite values";
    }

    private static (double[] Limits, double[] Counts) Exponential(ReadOnlySpan<double> values)
    {
        var limits = DefaultLimits;
        var counts = new double[limits.Length];
        foreach (double v in values)
        {
            // The first limit above v (std::upper_bound); double.MaxValue itself lands in the last bucket.
            int lo = 0, hi = limits.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (limits[mid] > v) hi = mid;
                else lo = mid + 1;
            }
            counts[Math.Min(lo, limits.Length - 1)]++;
        }
        var outLimits = new List<double>();
        var outCounts = new List<double>();
        for (int i = 0; i < counts.Length;)
        {
            double end = limits[i], count = counts[i];
            i++;
            if (count == 0)
            {
                while (i < counts.Length && counts[i] == 0)
                {
                    end = limits[i];
                    i++;
                }
            }
            outLimits.Add(end);
            outCounts.Add(count);
        }
        return (outLimits.ToArray(), outCounts.ToArray());
    }

    private static (double[] Limits, double[] Counts) EqualWidth(ReadOnlySpan<double> values, int bins, double min, double max)
    {
        double lo = min, hi = max;
        if (lo == hi)
        {
            lo -= 0.5;
            hi += 0.5;
        }
        double width = (hi - lo) / bins;
        var limits = new double[bins];
        for (int i = 0; i < bins - 1; i++) limits[i] = lo + (i + 1) * width;
        limits[bins - 1] = hi;
        var counts = new double[bins];
        foreach (double v in values)
        {
            int k = (int)Math.Clamp(Math.Floor((v - lo) / width), 0, bins - 1);
            // Rounding in the division may be off by one: settle on the bucket the stored limits define.
            while (k > 0 && v < limits[k - 1]) k--;
            while (k < bins - 1 && v >= limits[k]) k++;
            counts[k]++;
        }
        return (limits, counts);
    }

    private static double[] BuildDefaultLimits()
    {
        var positive = new List<double>();
        for (double v = 1e-12; v < 1e20; v *= 1.1) positive.Add(v);
        positive.Add(double.MaxValue);
        var limits = new double[positive.Count * 2 + 1];
        for (int i = 0; i < positive.Count; i++)
        {
            limits[positive.Count - 1 - i] = -positive[i];
            limits[positive.Count + 1 + i] = positive[i];
        }
        limits[positive.Count] = 0;
        return limits;
    }
}
