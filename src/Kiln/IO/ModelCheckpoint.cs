using System.Globalization;
using Kiln.Models;

namespace Kiln.IO;

/// <summary>
/// Saves the model during Fit (Keras's <c>keras.callbacks.ModelCheckpoint</c>): at the end of every
/// epoch, or every <see cref="SaveFreq"/> batches, and with <see cref="SaveBestOnly"/> only when the
/// monitored value improved. The file name is a template filled with the 1-based epoch (and batch)
/// and the logged values, in Python's format syntax as Keras takes it:
/// <c>"ckpt/epoch{epoch:02d}-{val_loss:.2f}.safetensors"</c> (see the constructor). Each file is
/// written atomically, so a run killed while saving leaves the previous checkpoint whole; missing
/// directories are created.
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    private static readonly IReadOnlySet<string> WholeNumbers = new HashSet<string>(StringComparer.Ordinal) { "epoch", "batch" };
    // Parts of the names of metrics that improve upwards (Keras's metrics with direction "up").
    private static readonly string[] UpwardNames = ["acc", "auc", "precision", "recall", "f1", "iou"];

    private readonly PathTemplate _template;
    private int _epoch;
    private int _batchesSinceSave;
    private bool _warned;

    /// <summary>
    /// A checkpoint written to <paramref name="filePath"/>, a template whose fields are
    /// <c>{epoch}</c> (1-based, as Keras), <c>{batch}</c> (1-based, when saving every few batches) and
    /// any logged name (<c>{loss}</c>, <c>{val_accuracy}</c>, ...), each with an optional format spec
    /// <c>[0][width][.precision][type]</c>, type d, f, e, g or % (<c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>,
    /// <c>{loss:e}</c>).
    /// </summary>
    /// <param name="filePath">The file name template; <c>{{</c> and <c>}}</c> stand for literal braces.</param>
    /// <param name="monitor">The logged value <paramref name="saveBestOnly"/> compares ("val_loss").</param>
    /// <param name="mode">"min", "max", or "auto": accuracies, AUC, precision, recall, F1 and IoU are maximized, anything else (losses, errors) minimized.</param>
    /// <param name="saveBestOnly">Save only when <paramref name="monitor"/> beats the best value so far (epochs without it are skipped, with one warning).</param>
    /// <param name="saveWeightsOnly">Write the weights as safetensors (<see cref="ModuleWeights.SaveWeights"/>) instead of the whole model (<see cref="SavedModel.Save"/>, which needs built-in layers and includes the optimizer).</param>
    /// <param name="saveFreq">Null to save at each epoch's end (Keras's "epoch"), or a number of batches to save after every that many (counted across epochs).</param>
    /// <param name="initialValueThreshold">With <paramref name="saveBestOnly"/>, the value the first checkpoint must beat (none by default).</param>
    public ModelCheckpoint(string filePath, string monitor = "val_loss", string mode = "auto", bool saveBestOnly = false,
        bool saveWeightsOnly = false, int? saveFreq = null, double? initialValueThreshold = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(monitor);
        ArgumentNullException.ThrowIfNull(mode);
        if (saveFreq is <= 0) throw new ArgumentOutOfRangeException(nameof(saveFreq), saveFreq, "ModelCheckpoint: saveFreq is a number of batches >= 1, or null to save at each epoch's end");
        _template = new PathTemplate(filePath, nameof(filePath));
        FilePath = filePath;
        Monitor = monitor;
        HigherIsBetter = mode switch
        {
            "min" => false,
            "max" => true,
            "auto" => ImprovesUpwards(monitor),
            _ => throw new ArgumentException($"ModelCheckpoint: mode is \"{mode}\"; expected \"auto\", \"min\" or \"max\"", nameof(mode)),
        };
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        SaveFreq = saveFreq;
        Best = initialValueThreshold ?? (HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity);
    }

    /// <summary>The file name template.</summary>
    public string FilePath { get; }

    /// <summary>The logged value compared for <see cref="SaveBestOnly"/>.</summary>
    public string Monitor { get; }

    /// <summary>Whether a larger <see cref="Monitor"/> is better (mode "max", or "auto" for an accuracy-like name).</summary>
    public bool HigherIsBetter { get; }

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Whether only the weights are saved.</summary>
    public bool SaveWeightsOnly { get; }

    /// <summary>Null to save at each epoch's end, else the number of batches between saves.</summary>
    public int? SaveFreq { get; }

    /// <summary>The best monitored value saved so far (kept across Fits, as Keras keeps it).</summary>
    public double Best { get; private set; }

    /// <summary>The path of the last file written, or null.</summary>
    public string? LastSaved { get; private set; }

    /// <summary>Checks that the model can be saved as asked, so a model that cannot is refused before training rather than after the first epoch.</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _batchesSinceSave = 0;
        _warned = false;
        if (!SaveWeightsOnly) SavedModel.CheckSavable(Model, Trainer.Optimizer);
    }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => _epoch = epoch;

    /// <inheritdoc/>
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
    {
        if (SaveFreq is not { } every || ++_batchesSinceSave < every) return;
        _batchesSinceSave = 0;
        Save(_epoch, batch, logs);
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (SaveFreq is null) Save(epoch, null, logs);
    }

    private void Save(int epoch, int? batch, IDictionary<string, double> logs)
    {
        if (SaveBestOnly)
        {
            if (!logs.TryGetValue(Monitor, out double current))
            {
                if (!_warned) Console.Error.WriteLine($"ModelCheckpoint: can save the best model only with \"{Monitor}\" logged, which is not; skipping. Logged: {string.Join(", ", logs.Keys)}");
                _warned = true;
                return;
            }
            if (!(HigherIsBetter ? current > Best : current < Best)) return;
            Best = current;
        }
        var values = new Dictionary<string, double>(logs, StringComparer.Ordinal) { ["epoch"] = epoch + 1 };
        if (batch is { } b) values["batch"] = b + 1;
        var path = _template.Format(values, WholeNumbers);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        if (SaveWeightsOnly) Model.SaveWeights(path, new Dictionary<string, string> { ["epoch"] = (epoch + 1).ToString(CultureInfo.InvariantCulture) });
        else Model.Save(path);
        LastSaved = path;
    }

    private static bool ImprovesUpwards(string monitor)
    {
        var name = monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor[4..] : monitor;
        if (name.EndsWith("loss", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var part in UpwardNames)
            if (name.Contains(part, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
