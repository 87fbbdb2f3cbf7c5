using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>The accuracy metrics against hand counts on a 7-row batch of class scores and a 7-element binary batch.</summary>
public sealed class ClassificationMetricTests
{
    // Row argmaxes: 1, 0, 2, 0, 2, 0, 2. Row 5 ties classes 1 and 2 at 0.05; row 2 ties classes 0 and 1 at 0.3.
    internal static readonly float[,] Scores =
    {
        { 0.1f, 0.7f, 0.2f },
        { 2.0f, -1.0f, 0.5f },
        { 0.3f, 0.3f, 0.4f },
        { 0.5f, 0.2f, 0.3f },
        { -1.0f, -2.0f, -0.5f },
        { 0.9f, 0.05f, 0.05f },
        { 0.1f, 0.2f, 0.7f },
    };

    internal static readonly long[] Labels = [1, 0, 1, 2, 2, 2, 0];

    internal static readonly float[] SampleWeights = [1f, 2f, 3f, 0.5f, 1.5f, 1f, 2f];

    private static Tensor OneHot(long[] labels, int classes)
    {
        var data = new float[labels.Length, classes];
        for (int i = 0; i < labels.Length; i++) data[i, labels[i]] = 1;
        return Tensor.From(data);
    }

    [Fact]
    public void Accuracy_of_class_scores_counts_argmax_matches()
    {
        var accuracy = new Accuracy();
        accuracy.Update(Tensor.From(Scores), Tensor.From(Labels));
        // Rows 0, 1 and 4 are right.
        Assert.Equal(3.0 / 7, accuracy.Result(), 12);
        Assert.Equal("accuracy", accuracy.Name);
    }

    [Fact]
    public void Accuracy_weights_each_sample()
    {
        var accuracy = new Accuracy();
        accuracy.Update(Tensor.From(Scores), Tensor.From(Labels), Tensor.From(SampleWeights));
        Assert.Equal((1 + 2 + 1.5) / 11.0, accuracy.Result(), 12);
    }

    [Fact]
    public void Accuracy_reads_one_hot_and_n_by_1_index_targets_like_indices()
    {
        var oneHot = new Accuracy();
        oneHot.Update(Tensor.From(Scores), OneHot(Labels, 3));
        var column = new Accuracy();
        column.Update(Tensor.From(Scores), Tensor.From<long>(Labels, Labels.Length, 1));
        Assert.Equal(3.0 / 7, oneHot.Result(), 12);
        Assert.Equal(3.0 / 7, column.Result(), 12);
    }

    [Fact]
    public void Accuracy_of_binary_probabilities_thresholds_at_one_half()
    {
        // Above 0.5: elements 0, 3, 5. Right: 0, 1, 3, 4, 6 (0.5 itself is not above the threshold).
        float[] probabilities = [0.9f, 0.2f, 0.5f, 0.51f, 0f, 1f, 0.49f];
        float[] truth = [1, 0, 1, 1, 0, 0, 0];
        var flat = new Accuracy();
        flat.Update(Tensor.From(probabilities), Tensor.From(truth));
        Assert.Equal(5.0 / 7, flat.Result(), 12);

        var column = new Accuracy();
        column.Update(Tensor.From<float>(probabilities, 7, 1), Tensor.From<long>([1, 0, 1, 1, 0, 0, 0]));
        Assert.Equal(5.0 / 7, column.Result(), 12);
    }

    [Fact]
    public void Accuracy_threshold_zero_reads_logits()
    {
        var accuracy = new Accuracy(threshold: 0);
        accuracy.Update(Tensor.From([2.0, -1.0, 0.5, -0.1, 3.0]), Tensor.From([1.0, 0.0, 0.0, 0.0, 1.0]));
        Assert.Equal(4.0 / 5, accuracy.Result(), 12);
    }

    [Fact]
    public void SparseCategoricalAccuracy_counts_argmax_matches_with_weights()
    {
        var accuracy = new SparseCategoricalAccuracy();
        accuracy.Update(Tensor.From(Scores), Tensor.From(Labels));
        Assert.Equal(3.0 / 7, accuracy.Result(), 12);
        var weighted = new SparseCategoricalAccuracy();
        weighted.Update(Tensor.From(Scores), Tensor.From(Labels), Tensor.From(SampleWeights));
        Assert.Equal(4.5 / 11, weighted.Result(), 12);
        Assert.Equal("sparse_categorical_accuracy", accuracy.Name);
    }

    [Fact]
    public void TopKAccuracy_counts_ties_at_the_kth_score_as_in_the_top_k()
    {
        // Top 2: every row holds its label except row 6 (0.1 is the lowest score); row 5's label ties at 0.05.
        var topK = new TopKAccuracy(k: 2);
        topK.Update(Tensor.From(Scores), Tensor.From(Labels));
        Assert.Equal(6.0 / 7, topK.Result(), 12);
        var weighted = new TopKAccuracy(k: 2);
        weighted.Update(Tensor.From(Scores), OneHot(Labels, 3), Tensor.From(SampleWeights));
        Assert.Equal(9.0 / 11, weighted.Result(), 12);
    }

    [Fact]
    public void TopKAccuracy_with_k_1_counts_a_tie_with_the_max_as_a_hit()
    {
        // Row 2 ties classes 0 and 1 at 0.3 below class 2; a one-row batch where the label ties the max.
        var topOne = new TopKAccuracy(k: 1);
        topOne.Update(Tensor.From(new float[,] { { 0.4f, 0.4f, 0.2f } }), Tensor.From<long>([1]));
        Assert.Equal(1.0, topOne.Result());
        var accuracy = new Accuracy();
        accuracy.Update(Tensor.From(new float[,] { { 0.4f, 0.4f, 0.2f } }), Tensor.From<long>([1]));
        Assert.Equal(0.0, accuracy.Result());
    }

    [Fact]
    public void TopKAccuracy_reads_rows_wider_than_a_vector()
    {
        // 37 classes: the label's score is beaten by exactly k - 1 or k others.
        var scores = new double[2, 37];
        for (int c = 0; c < 37; c++)
        {
            scores[0, c] = c;
            scores[1, c] = -c;
        }
        var topK = new TopKAccuracy(k: 5);
        topK.Update(Tensor.From(scores), Tensor.From<long>([32, 5]));
        // Row 0: 4 scores beat 32 (hit). Row 1: 5 scores beat -5 (miss).
        Assert.Equal(0.5, topK.Result());
    }

    [Fact]
    public void Precision_recall_and_f1_of_binary_probabilities()
    {
        // Predicted positive: 0, 3, 5. Truly positive: 0, 2, 3, 6. tp = 2, fp = 1, fn = 2.
        var p = Tensor.From([0.9f, 0.2f, 0.5f, 0.51f, 0f, 1f, 0.49f]);
        var t = Tensor.From([1f, 0, 1, 1, 0, 0, 1]);
        var (precision, recall, f1) = (new Precision(), new Recall(), new F1Score());
        foreach (var m in new Metric[] { precision, recall, f1 }) m.Update(p, t);
        Assert.Equal(2.0 / 3, precision.Result(), 12);
        Assert.Equal(0.5, recall.Result(), 12);
        Assert.Equal(4.0 / 7, f1.Result(), 12);
    }

    [Fact]
    public void Precision_recall_and_f1_weight_each_sample()
    {
        // tp = w0 + w3 = 2, fp = w5 = 0.5, fn = w2 + w6 = 5.
        var p = Tensor.From([0.9f, 0.2f, 0.5f, 0.51f, 0f, 1f, 0.49f]);
        var t = Tensor.From<long>([1, 0, 1, 1, 0, 0, 1]);
        var w = Tensor.From([1.0, 2, 3, 1, 1, 0.5, 2]);
        var (precision, recall, f1) = (new Precision(), new Recall(), new F1Score());
        foreach (var m in new Metric[] { precision, recall, f1 }) m.Update(p, t, w);
        Assert.Equal(0.8, precision.Result(), 12);
        Assert.Equal(2.0 / 7, recall.Result(), 12);
        Assert.Equal(4.0 / 9.5, f1.Result(), 12);
    }

    [Fact]
    public void Multiclass_precision_recall_and_f1_are_macro_averages()
    {
        // Per class: tp = [1, 1, 1], fp = [2, 0, 2], fn = [1, 1, 2].
        var (precision, recall, f1) = (new Precision(numClasses: 3), new Recall(numClasses: 3), new F1Score(numClasses: 3));
        foreach (var m in new Metric[] { precision, recall, f1 }) m.Update(Tensor.From(Scores), Tensor.From(Labels));
        Assert.Equal((1.0 / 3 + 1 + 1.0 / 3) / 3, precision.Result(), 12);
        Assert.Equal((0.5 + 0.5 + 1.0 / 3) / 3, recall.Result(), 12);
        Assert.Equal((2.0 / 5 + 2.0 / 3 + 1.0 / 3) / 3, f1.Result(), 12);
    }

    [Fact]
    public void Precision_is_zero_while_nothing_is_predicted_positive()
    {
        var precision = new Precision();
        Assert.Equal(0, precision.Result());
        precision.Update(Tensor.From([0.1f, 0.2f]), Tensor.From([1f, 1f]));
        Assert.Equal(0, precision.Result());
        var recall = new Recall();
        recall.Update(Tensor.From([0.1f, 0.2f]), Tensor.From([1f, 1f]));
        Assert.Equal(0, recall.Result());
    }
}
