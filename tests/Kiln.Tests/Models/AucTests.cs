using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>Auc against the exact rank-based (Mann–Whitney) AUC: equal where no two scores share a threshold bucket, within the bucket ties otherwise.</summary>
public sealed class AucTests
{
    /// <summary>Σ wᵢ·wⱼ·pair(i, j) over positives i and negatives j, over the total weight of such pairs.</summary>
    private static double PairMean(bool[] positive, double[] weights, Func<int, int, double> pair)
    {
        double sum = 0, positives = 0, negatives = 0;
        for (int i = 0; i < positive.Length; i++)
        {
            if (positive[i]) positives += weights[i];
            else negatives += weights[i];
            if (!positive[i]) continue;
            for (int j = 0; j < positive.Length; j++)
                if (!positive[j]) sum += weights[i] * weights[j] * pair(i, j);
        }
        return sum / (positives * negatives);
    }

    /// <summary>The probability that a positive outscores a negative, ties counting half, every pair weighted by both weights.</summary>
    private static double ExactAuc(double[] scores, bool[] positive, double[] weights)
        => PairMean(positive, weights, (i, j) => scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0);

    private static (double[] Scores, bool[] Positive, double[] Weights) RandomData(int n, int seed)
    {
        var random = new Random(seed);
        var scores = new double[n];
        var positive = new bool[n];
        var weights = new double[n];
        for (int i = 0; i < n; i++)
        {
            positive[i] = random.NextDouble() < 0.4;
            // Positives score higher on average, with overlap.
            scores[i] = Math.Clamp(random.NextDouble() * 0.7 + (positive[i] ? 0.3 : 0), 0, 1);
            weights[i] = 0.25 + random.NextDouble();
        }
        return (scores, positive, weights);
    }

    private static Tensor Targets(bool[] positive) => Tensor.From(positive.Select(p => p ? 1f : 0f).ToArray());

    [Fact]
    public void Auc_equals_the_exact_auc_when_scores_sit_in_distinct_threshold_buckets()
    {
        // Scores at the middles of distinct buckets of the 199 gaps between 200 thresholds.
        int[] buckets = [3, 17, 40, 41, 77, 90, 120, 121, 150, 160, 198];
        bool[] positive = [false, false, true, false, true, false, true, true, false, true, true];
        var scores = buckets.Select(b => (b + 0.5) / 199).ToArray();
        var ones = Enumerable.Repeat(1.0, scores.Length).ToArray();
        var auc = new Auc();
        auc.Update(Tensor.From(scores), Targets(positive));
        Assert.Equal(ExactAuc(scores, positive, ones), auc.Result(), 12);
        Assert.Equal("auc", auc.Name);
    }

    [Fact]
    public void Auc_of_random_scores_is_within_the_threshold_resolution_of_the_exact_auc()
    {
        var (scores, positive, weights) = RandomData(301, seed: 7);
        var auc = new Auc();
        auc.Update(Tensor.From(scores), Targets(positive), Tensor.From(weights));
        // The curve through the thresholds is the exact AUC of the scores rounded to their buckets:
        // pairs that share a bucket count half, so the difference is at most half their weight.
        var bucketed = scores.Select(s => Math.Min(Math.Floor(s * 199), 198)).ToArray();
        Assert.Equal(ExactAuc(bucketed, positive, weights), auc.Result(), 10);
        double bound = 0.5 * PairMean(positive, weights, (i, j) => bucketed[i] == bucketed[j] ? 1 : 0);
        Assert.InRange(Math.Abs(auc.Result() - ExactAuc(scores, positive, weights)), 0, bound + 1e-12);
        Assert.InRange(bound, 0, 0.01);
    }

    [Fact]
    public void Auc_from_logits_equals_auc_of_their_sigmoid()
    {
        int[] buckets = [5, 30, 60, 99, 140, 170, 190];
        bool[] positive = [false, true, false, true, false, true, true];
        var probabilities = buckets.Select(b => (b + 0.5) / 199).ToArray();
        var logits = probabilities.Select(p => Math.Log(p / (1 - p))).ToArray();
        var fromProbabilities = new Auc();
        fromProbabilities.Update(Tensor.From(probabilities), Targets(positive));
        var fromLogits = new Auc(fromLogits: true);
        fromLogits.Update(Tensor.From(logits), Targets(positive));
        Assert.Equal(fromProbabilities.Result(), fromLogits.Result(), 12);
        // Of the 12 positive-negative pairs, 1 + 2 + 3 + 3 are ordered right.
        Assert.Equal(9.0 / 12, fromLogits.Result(), 12);
    }

    [Fact]
    public void Auc_is_one_for_perfect_separation_and_zero_without_both_classes()
    {
        var auc = new Auc(numThresholds: 11);
        auc.Update(Tensor.From([0.05f, 0.15f, 0.85f, 0.95f]), Tensor.From([0f, 0, 1, 1]));
        Assert.Equal(1.0, auc.Result(), 12);
        var onlyPositives = new Auc();
        onlyPositives.Update(Tensor.From([0.2f, 0.8f]), Tensor.From([1f, 1f]));
        Assert.Equal(0.0, onlyPositives.Result());
    }

    [Fact]
    public void Auc_flattens_multi_label_outputs_with_each_samples_weight()
    {
        // [3, 2] labels: the flattened data with each weight repeated twice.
        double[] scores = [(10 + 0.5) / 199, (150 + 0.5) / 199, (70 + 0.5) / 199, (30 + 0.5) / 199, (180 + 0.5) / 199, (100 + 0.5) / 199];
        bool[] positive = [false, true, true, false, true, false];
        double[] weights = [2, 2, 0.5, 0.5, 1, 1];
        var auc = new Auc();
        auc.Update(Tensor.From<double>(scores, 3, 2), Tensor.From<float>(positive.Select(p => p ? 1f : 0f).ToArray(), 3, 2), Tensor.From([2.0, 0.5, 1.0]));
        Assert.Equal(ExactAuc(scores, positive, weights), auc.Result(), 12);
    }
}
