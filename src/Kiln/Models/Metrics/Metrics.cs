namespace Kiln.Models;

/// <summary>
/// The built-in metrics by name, for <c>model.Compile(optimizer, loss, Metrics.Accuracy, Metrics.TopK(5))</c>.
/// Each property read and each call returns a new metric with the default settings (Keras's names in
/// the logs); construct the metric class directly for other settings or another name.
/// </summary>
public static class Metrics
{
    /// <summary>A new <see cref="Models.Accuracy"/>: argmax for class scores, threshold 0.5 for binary outputs ("accuracy").</summary>
    public static Accuracy Accuracy => new();

    /// <summary>A new <see cref="Models.SparseCategoricalAccuracy"/>: class scores [N, C] against int64 indices [N] ("sparse_categorical_accuracy").</summary>
    public static SparseCategoricalAccuracy SparseCategoricalAccuracy => new();

    /// <summary>A new <see cref="TopKAccuracy"/>: the true class among the <paramref name="k"/> highest scores ("top_k_accuracy").</summary>
    public static TopKAccuracy TopK(int k = 5) => new(k);

    /// <summary>A new binary <see cref="Models.Precision"/> at threshold 0.5 ("precision").</summary>
    public static Precision Precision => new();

    /// <summary>A new binary <see cref="Models.Recall"/> at threshold 0.5 ("recall").</summary>
    public static Recall Recall => new();

    /// <summary>A new binary <see cref="Models.F1Score"/> at threshold 0.5 ("f1_score").</summary>
    public static F1Score F1Score => new();

    /// <summary>A new <see cref="Models.Auc"/>: ROC AUC over 200 thresholds ("auc").</summary>
    public static Auc Auc => new();

    /// <summary>A new <see cref="Models.MeanSquaredError"/> ("mean_squared_error").</summary>
    public static MeanSquaredError MeanSquaredError => new();

    /// <summary>A new <see cref="Models.MeanAbsoluteError"/> ("mean_absolute_error").</summary>
    public static MeanAbsoluteError MeanAbsoluteError => new();

    /// <summary>A new <see cref="Models.Mean"/> logged as <paramref name="name"/>.</summary>
    public static Mean Mean(string name = "mean") => new(name);
}
