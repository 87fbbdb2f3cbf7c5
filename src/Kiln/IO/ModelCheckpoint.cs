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

    private readonly PathTemplate _template;
    private readonly MonitoredValue _monitor;
    private int _epoch;
    private int _batchesSinceSave;

    /// <summary>
    /// A checkpoint written to <paramref name="filePath"/>, a template whose fields are
    /// <c>{epoch}</c> (1-based, as Keras), <c>{batch}</c> (1-based, when saving every few batches) and
    /// any logged name (<c>{loss}</c>, <c>{val_accuracy}</c>, ...), each with an optional format spec
    /// <c>[0][width][.precision][type]</c>, type d, f, e, g or % (<c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>,
    /// <c>{loss:e}</c>).
    /// </summary>
    /// <param name="filePath">The file name template; <c>{{</c> and <c>}}</c> stand for literal braces.</param>
    /// <param name="monitor">The logged value <paramref name="saveBestOnly"/> compares ("val_loss").</param>
    /// <param name="mode">Which direction of <paramref name="monitor"/> is better; Auto maximizes accuracies, AUC, precision, recall, F1 and IoU and minimizes anything else (losses, errors), as EarlyStopping does.</param>
    /// <param name="saveBestOnly">Save only when <paramref name="monitor"/> beats the best value so far (epochs without it are skipped, with one warning per Fit).</param>
    /// <param name="saveWeightsOnly">Write the weights as safetensors (<see cref="ModuleWeights.SaveWeights"/>) instead of the whole model (<see cref="SavedModel.Save"/>, which needs built-in layers and includes the optimizer). A path ending in ".safetensors" always gets the weights, the only thing that format holds.</param>
    /// <param name="saveFreq">Null to save at each epoch's end (Keras's "epoch"), or a number of batches to save after every that many (counted across epochs).</param>
    /// <param name="initialValueThreshold">With <paramref name="saveBestOnly"/>, the value the first checkpoint must beat (none by default).</param>
    public ModelCheckpoint(string filePath, string monitor = "val_loss", MonitorMode mode = MonitorMode.Auto, bool saveBestOnly = false,
        bool saveWeightsOnly = false, int? saveFreq = null, double? initialValueThreshold = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        _monitor = new MonitoredValue(nameof(ModelCheckpoint), monitor, mode);
        if (saveFreq is <= 0) throw new ArgumentOutOfRangeException(nameof(saveFreq), saveFreq, "ModelCheckpoint: saveFreq is a number of batches >= 1, or null to save at each epoch's end");
        _template = new PathTemplate(filePath, nameof(filePath));
        FilePath = filePath;
        Mode = mode;
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly || filePath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        SaveFreq = saveFreq;
        Best = initialValueThreshold ?? _monitor.Worst;
    }

    /// <summary>The file name template.</summary>
    public string FilePath { get; }

    /// <summary>The logged value compared for <see cref="SaveBestOnly"/>.</summary>
    public string Monitor => _monitor.Monitor;

    /// <summary>The direction asked for (Auto is decided from the monitored name).</summary>
    public MonitorMode Mode { get; }

    /// <summary>Whether a larger <see cref="Monitor"/> is better.</summary>
    public bool HigherIsBetter => _monitor.HigherIsBetter;

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Whether only the weights are saved (asked for, or implied by a ".safetensors" path).</summary>
    public bool SaveWeightsOnly { get; }

    /// <summary>Null to save at each epoch's end, else the number of batches between saves.</summary>
    public int? SaveFreq { get; }

    /// <summary>The best monitored value saved so far (kept across Fits, as Keras keeps it).</summary>
    public double Best { get; private set; }

    /// <summary>Where the missing-value warning goes; null for the console's error stream (for tests).</summary>
    internal TextWriter? Warnings
    {
        get => _monitor.Warnings;
        set => _monitor.Warnings = value;
    }

    /// <summary>The path of the last file written, or null.</summary>
    public string? LastSaved { get; private set; }

    /// <summary>Checks that the model can be saved as asked, so a model that cannot is refused before training rather than after the first epoch.</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _batchesSinceSave = 0;
        _monitor.Reset();
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
            if (!_monitor.TryRead(logs, out double current) || !_monitor.Improves(current, Best, margin: 0)) return;
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
}
