using Kiln.Models;

namespace Kiln.IO;

/// <summary>
/// The Keras <c>TensorBoard</c> callback: during Fit it writes event files under
/// <see cref="LogDir"/> for <c>tensorboard --logdir</c>, laid out as Keras lays them out. The
/// <c>train</c> run gets <c>epoch_loss</c>, <c>epoch_accuracy</c>, ... (every log value without the
/// "val_" prefix) and <c>epoch_learning_rate</c> (the optimizer's first parameter group) at step =
/// epoch; the <c>validation</c> run gets the "val_" values under the same tags without the prefix,
/// so TensorBoard draws training and validation on one chart, plus
/// <c>evaluation_&lt;name&gt;_vs_iterations</c> at the number of training batches so far after each
/// validation pass. With an <see cref="UpdateFreq"/> in batches the train run also gets
/// <c>batch_loss</c>, <c>batch_accuracy</c>, ... (running means over the epoch so far) every that
/// many batches, at step = the number of training batches so far (1-based). Every
/// <see cref="HistogramFreq"/> epochs the train run gets a histogram of each parameter, tagged by
/// its name (<c>features.0.weight</c>); a parameter holding NaN or infinities is skipped.
/// <para>
/// With <see cref="WriteGraph"/> the model graph (see <see cref="SummaryWriter.AddGraph"/>) is
/// recorded from the first training batch through forward hooks, so it costs no extra forward
/// pass and needs no sample input; it is written when that batch ends. A model whose modules are
/// not run through <c>Module.Call</c> (a compiled step) leaves nothing to record, and then no graph
/// is written. Events are flushed at each epoch end and the files closed when training ends; each
/// Fit starts new files in the same runs.
/// </para>
/// </summary>
public sealed class TensorBoard : Callback
{
    private SummaryWriter? _train;
    private SummaryWriter? _validation;
    private ModuleGraphRecorder? _graph;
    private long _trainBatches;

    /// <summary>
    /// Writes to <paramref name="logDir"/> (<c>train/</c> and <c>validation/</c> below it), with
    /// parameter histograms every <paramref name="histogramFreq"/> epochs (0: none), the model graph
    /// when <paramref name="writeGraph"/>, and batch values as <paramref name="updateFreq"/> says
    /// ("epoch", "batch" or a number of batches).
    /// </summary>
    public TensorBoard(string logDir = "logs", int histogramFreq = 0, bool writeGraph = true, UpdateFrequency updateFreq = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDir);
        ArgumentOutOfRangeException.ThrowIfNegative(histogramFreq);
        LogDir = logDir;
        HistogramFreq = histogramFreq;
        WriteGraph = writeGraph;
        UpdateFreq = updateFreq;
    }

    /// <summary>The directory holding the <c>train</c> and <c>validation</c> runs.</summary>
    public string LogDir { get; }

    /// <summary>Parameter histograms are written every this many epochs (0: never).</summary>
    public int HistogramFreq { get; }

    /// <summary>Whether the model graph is written (from the first training batch).</summary>
    public bool WriteGraph { get; }

    /// <summary>How often batch values are written.</summary>
    public UpdateFrequency UpdateFreq { get; }

    /// <inheritdoc/>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        CloseWriters();
        _trainBatches = 0;
        _train = new SummaryWriter(Path.Combine(LogDir, "train"));
        if (WriteGraph) _graph = ModuleGraphRecorder.Attach(Model);
    }

    /// <inheritdoc/>
    public override void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) => _trainBatches++;

    /// <inheritdoc/>
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
    {
        var train = TrainWriter();
        if (_graph is not null)
        {
            if (_graph.HasNodes) train.WriteGraph(_graph.ToGraphDef());
            _graph.Dispose();
            _graph = null;
        }
        if (UpdateFreq.IsEpoch || _trainBatches % UpdateFreq.Batches != 0) return;
        foreach (var (name, value) in logs)
            train.AddScalar("batch_" + name, value, _trainBatches);
    }

    /// <inheritdoc/>
    public override void OnTestEnd(IDictionary<string, double> logs)
    {
        // Only a validation pass inside Fit is logged; a standalone Evaluate has no run to write to.
        if (_train is null || logs.Count == 0) return;
        var validation = ValidationWriter();
        foreach (var (name, value) in logs)
            validation.AddScalar($"evaluation_{name}_vs_iterations", value, _trainBatches);
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var train = TrainWriter();
        foreach (var (name, value) in logs)
            if (!name.StartsWith("val_", StringComparison.Ordinal))
                train.AddScalar("epoch_" + name, value, epoch);
        var groups = Trainer.Optimizer.ParamGroups;
        if (groups.Count > 0 && groups[0].Contains("lr"))
            train.AddScalar("epoch_learning_rate", groups[0].Lr, epoch);
        foreach (var (name, value) in logs)
            if (name.StartsWith("val_", StringComparison.Ordinal))
                ValidationWriter().AddScalar("epoch_" + name["val_".Length..], value, epoch);
        if (HistogramFreq > 0 && epoch % HistogramFreq == 0)
            WriteHistograms(train, epoch);
        train.Flush();
        _validation?.Flush();
    }

    /// <inheritdoc/>
    public override void OnTrainEnd(IDictionary<string, double> logs) => CloseWriters();

    private void WriteHistograms(SummaryWriter train, int epoch)
    {
        foreach (var (name, parameter) in Model.NamedParameters())
        {
            var values = SummaryWriter.ToDoubles(parameter);
            if (HistogramSummary.Problem(values, null) is null)
                train.AddHistogram(name, values, epoch);
        }
    }

    private SummaryWriter TrainWriter()
        => _train ?? throw new InvalidOperationException("TensorBoard: OnTrainBegin has not run; the callback writes during Fit");

    private SummaryWriter ValidationWriter() => _validation ??= new SummaryWriter(Path.Combine(LogDir, "validation"));

    private void CloseWriters()
    {
        _graph?.Dispose();
        _graph = null;
        var train = _train;
        var validation = _validation;
        _train = null;
        _validation = null;
        try { train?.Dispose(); }
        finally { validation?.Dispose(); }
    }
}
