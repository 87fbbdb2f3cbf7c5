using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>
/// What every built-in metric promises: batches streamed through several updates give the result of one
/// update over all the data (with and without sample weights, float32 and float64, contiguous or not),
/// Reset forgets, Clone is a fresh independent copy, and bad input is refused with a clear message.
/// </summary>
public sealed class MetricContractTests
{
    private const int Rows = 13;
    private const int Classes = 4;

    /// <summary>The kinds of batch a metric reads.</summary>
    public enum Data { ClassScores, Binary, Regression }

    private static readonly Dictionary<string, (Func<Metric> Make, Data Data)> Cases = new()
    {
        ["accuracy (class scores)"] = (() => new Accuracy(), Data.ClassScores),
        ["accuracy (binary)"] = (() => new Accuracy(threshold: 0.4), Data.Binary),
        ["sparse_categorical_accuracy"] = (() => new SparseCategoricalAccuracy(), Data.ClassScores),
        ["top_k_accuracy"] = (() => new TopKAccuracy(k: 2), Data.ClassScores),
        ["precision"] = (() => new Precision(), Data.Binary),
        ["recall"] = (() => new Recall(threshold: 0.3), Data.Binary),
        ["f1_score"] = (() => new F1Score(), Data.Binary),
        ["precision (macro)"] = (() => new Precision(numClasses: Classes), Data.ClassScores),
        ["recall (macro)"] = (() => new Recall(numClasses: Classes), Data.ClassScores),
        ["f1_score (macro)"] = (() => new F1Score(numClasses: Classes), Data.ClassScores),
        ["auc"] = (() => new Auc(numThresholds: 50), Data.Binary),
        ["mean_squared_error"] = (() => new MeanSquaredError(), Data.Regression),
        ["mean_absolute_error"] = (() => new MeanAbsoluteError(), Data.Regression),
        ["mean"] = (() => new Mean(), Data.Regression),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    /// <summary>A batch of <see cref="Rows"/> samples as float64 arrays, with its shapes.</summary>
    private sealed record Batch(double[] Prediction, int[] PredictionShape, double[] Target, int[] TargetShape, bool TargetIsIndex, double[] Weights)
    {
        public int Width => Prediction.Length / Rows;
        public int TargetWidth => Target.Length / Rows;

        /// <summary>Rows [from, to) as tensors of <paramref name="dtype"/>.</summary>
        public (Tensor Prediction, Tensor Target, Tensor Weights) Slice(int from, int to, DType dtype)
        {
            int n = to - from;
            var p = Prediction[(from * Width)..(to * Width)];
            var t = Target[(from * TargetWidth)..(to * TargetWidth)];
            int[] pShape = [n, .. PredictionShape[1..]], tShape = [n, .. TargetShape[1..]];
            var prediction = dtype == DType.Float32 ? Tensor.From<float>(p.Select(v => (float)v).ToArray(), pShape) : Tensor.From<double>(p, pShape);
            var target = TargetIsIndex ? Tensor.From<long>(t.Select(v => (long)v).ToArray(), tShape) : Tensor.From<float>(t.Select(v => (float)v).ToArray(), tShape);
            return (prediction, target, Tensor.From(Weights[from..to]));
        }
    }

    private static Batch MakeBatch(Data data, int seed)
    {
        var random = new Random(seed);
        double[] Draw(int n, Func<double> f) => Enumerable.Range(0, n).Select(_ => f()).ToArray();
        var weights = Draw(Rows, () => Math.Round(random.NextDouble() * 2, 2));
        return data switch
        {
            Data.ClassScores => new Batch(Draw(Rows * Classes, () => Math.Round(random.NextDouble(), 2)), [Rows, Classes],
                Draw(Rows, () => random.Next(Classes)), [Rows], true, weights),
            Data.Binary => new Batch(Draw(Rows, () => Math.Round(random.NextDouble(), 2)), [Rows],
                Draw(Rows, () => random.Next(2)), [Rows], false, weights),
            _ => new Batch(Draw(Rows * 3, () => random.NextDouble() * 4 - 2), [Rows, 3], Draw(Rows * 3, () => random.NextDouble()), [Rows, 3], false, weights),
        };
    }

    private static double Run(Metric metric, Batch batch, int[] cuts, bool weighted, DType dtype = DType.Float64, bool strided = false)
    {
        int from = 0;
        foreach (int to in cuts.Append(Rows))
        {
            var (p, t, w) = batch.Slice(from, to, dtype);
            metric.Update(strided ? TestTensors.Strided(p) : p, t, weighted ? w : null);
            from = to;
        }
        return metric.Result();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Streaming_several_batches_equals_one_batch_of_all_the_data(string name)
    {
        var (make, data) = Cases[name];
        var batch = MakeBatch(data, seed: 11);
        foreach (bool weighted in new[] { false, true })
        {
            double whole = Run(make(), batch, [], weighted);
            double streamed = Run(make(), batch, [3, 8, 9], weighted);
            Assert.Equal(whole, streamed, 12);
            Assert.NotEqual(0, whole);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float32_and_strided_predictions_give_the_float64_result(string name)
    {
        var (make, data) = Cases[name];
        var batch = MakeBatch(data, seed: 5);
        double reference = Run(make(), batch, [6], weighted: true);
        Assert.Equal(reference, Run(make(), batch, [6], weighted: true, DType.Float32), 5);
        Assert.Equal(reference, Run(make(), batch, [6], weighted: true, strided: true), 12);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Reset_forgets_every_batch(string name)
    {
        var (make, data) = Cases[name];
        var metric = make();
        Run(metric, MakeBatch(data, seed: 1), [4], weighted: true);
        metric.Reset();
        Assert.Equal(0, metric.Result());
        var second = MakeBatch(data, seed: 2);
        Assert.Equal(Run(make(), second, [], weighted: false), Run(metric, second, [], weighted: false), 12);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Clone_is_a_fresh_metric_with_the_same_settings_and_its_own_state(string name)
    {
        var (make, data) = Cases[name];
        var original = make();
        var first = MakeBatch(data, seed: 3);
        double before = Run(original, first, [], weighted: true);
        var clone = original.Clone();
        Assert.IsType(original.GetType(), clone);
        Assert.Equal(original.Name, clone.Name);
        Assert.Equal(0, clone.Result());
        var second = MakeBatch(data, seed: 4);
        Assert.Equal(Run(make(), second, [], weighted: true), Run(clone, second, [], weighted: true), 12);
        Assert.Equal(before, original.Result(), 12);
    }

    [Fact]
    public void Name_option_overrides_the_logged_name_and_survives_clone()
    {
        Metric[] metrics =
        [
            new Accuracy(name: "a"), new SparseCategoricalAccuracy(name: "b"), new TopKAccuracy(3, name: "c"), new Precision(name: "d"),
            new Recall(name: "e"), new F1Score(name: "f"), new Auc(name: "g"), new MeanSquaredError(name: "h"), new MeanAbsoluteError(name: "i"),
            new Mean(name: "j"),
        ];
        Assert.Equal("abcdefghij", string.Concat(metrics.Select(m => m.Clone().Name)));
    }

    [Fact]
    public void Metrics_names_the_built_in_metrics_with_keras_names_and_new_instances()
    {
        Metric[] metrics =
        [
            Metrics.Accuracy, Metrics.SparseCategoricalAccuracy, Metrics.TopK(3), Metrics.Precision, Metrics.Recall, Metrics.F1Score,
            Metrics.Auc, Metrics.MeanSquaredError, Metrics.MeanAbsoluteError, Metrics.Mean("m"),
        ];
        Assert.Equal(
            ["accuracy", "sparse_categorical_accuracy", "top_k_accuracy", "precision", "recall", "f1_score", "auc", "mean_squared_error", "mean_absolute_error", "m"],
            metrics.Select(m => m.Name));
        Assert.Equal(3, ((TopKAccuracy)metrics[2]).K);
        Assert.NotSame(Metrics.Accuracy, Metrics.Accuracy);
    }

    [Fact]
    public void Mismatched_shapes_name_the_metric_and_both_shapes()
    {
        var scores = Tensor.Zeros([4, 3]);
        var e = Assert.Throws<KilnShapeException>(() => new Accuracy().Update(scores, Tensor.Zeros([5], DType.Int64)));
        Assert.Contains("accuracy", e.Message);
        Assert.Contains("[4, 3] float32", e.Message);
        Assert.Contains("[5] int64", e.Message);
        e = Assert.Throws<KilnShapeException>(() => new MeanSquaredError().Update(Tensor.Zeros([4, 2]), Tensor.Zeros([4, 3])));
        Assert.Contains("mean_squared_error", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        e = Assert.Throws<KilnShapeException>(() => new Auc().Update(Tensor.Zeros([4]), Tensor.Zeros([4]), Tensor.Ones([3])));
        Assert.Contains("auc: sampleWeight [3] float32 must hold one weight per sample: [4]", e.Message);
        e = Assert.Throws<KilnShapeException>(() => new Precision(numClasses: 4).Update(scores, Tensor.Zeros([4], DType.Int64)));
        Assert.Contains("precision: with numClasses = 4 the prediction must be class scores [N, 4], got [4, 3] float32", e.Message);
    }

    [Fact]
    public void Wrong_dtypes_are_refused_with_what_was_expected()
    {
        var e = Assert.Throws<KilnShapeException>(() => new SparseCategoricalAccuracy().Update(Tensor.Zeros([4, 3]), Tensor.Zeros([4])));
        Assert.Contains("sparse_categorical_accuracy", e.Message);
        Assert.Contains("class indices [4] (int64)", e.Message);
        Assert.Contains("got [4] float32", e.Message);
        e = Assert.Throws<KilnShapeException>(() => new MeanAbsoluteError().Update(Tensor.Zeros([4], DType.Int64), Tensor.Zeros([4])));
        Assert.Contains("mean_absolute_error: the prediction must be float32 or float64, got [4] int64", e.Message);
    }

    [Fact]
    public void K_larger_than_the_class_count_and_bad_labels_are_refused()
    {
        var e = Assert.Throws<KilnShapeException>(() => new TopKAccuracy(k: 5).Update(Tensor.Zeros([2, 3]), Tensor.Zeros([2], DType.Int64)));
        Assert.Contains("top_k_accuracy: k = 5 is more than the 3 classes", e.Message);
        var label = Assert.Throws<KilnException>(() => new Accuracy().Update(Tensor.Zeros([2, 3]), Tensor.From<long>([0, 3])));
        Assert.Contains("accuracy: target 3 of sample 1 is not a class index in [0, 3)", label.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TopKAccuracy(k: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new F1Score(numClasses: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Auc(numThresholds: 1));
    }

    [Fact]
    public void A_refused_batch_leaves_the_state_unchanged()
    {
        var accuracy = new Accuracy();
        accuracy.Update(Tensor.From(new float[,] { { 0.9f, 0.1f } }), Tensor.From<long>([0]));
        Assert.Throws<KilnException>(() => accuracy.Update(Tensor.From(new float[,] { { 0.9f, 0.1f }, { 0.2f, 0.8f } }), Tensor.From<long>([0, 7])));
        Assert.Equal(1.0, accuracy.Result());
    }
}
