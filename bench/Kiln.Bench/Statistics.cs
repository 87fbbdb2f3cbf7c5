namespace Kiln.Bench;

/// <summary>Order statistics of repetition samples; bench/peers/torch_bench.py computes the same ones the same way.</summary>
internal static class Statistics
{
    /// <summary>The q-quantile by linear interpolation between order statistics (numpy's default "linear" method).</summary>
    internal static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) throw new ArgumentException("no samples", nameof(values));
        var sorted = values.Order().ToArray();
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
    }

    internal static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);
}
