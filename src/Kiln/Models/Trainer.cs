using System.Runtime.CompilerServices;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Models;

/// <summary>
/// A model with what <c>Compile</c> gave it (optimizer, loss, metrics): the Keras-style
/// <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c> run here, on the very same <see cref="Module"/> a
/// PyTorch-style loop trains. <c>model.Compile(...)</c> creates it and the model's <c>Fit</c>,
/// <c>Evaluate</c> and <c>Predict</c> extension methods find it again; callbacks reach it through
/// <see cref="Callback.Trainer"/>.
/// </summary>
public sealed partial class Trainer
{
    private static readonly ConditionalWeakTable<Module, Trainer> ByModel = new();

    private Trainer(Module model, Optimizer optimizer, Loss loss, IReadOnlyList<Metric> metrics)
    {
        Model = model;
        Optimizer = optimizer;
        Loss = loss;
        Metrics = metrics;
    }

    /// <summary>The model trained.</summary>
    public Module Model { get; }

    /// <summary>The optimizer; Fit adds the model's parameters to it when it has none of them (so <c>new Adam(lr: 1e-3)</c> needs no parameter list).</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss Fit minimizes and Evaluate reports as "loss".</summary>
    public Loss Loss { get; }

    /// <summary>The metrics logged beside the loss, each a fresh copy of the one given to Compile.</summary>
    public IReadOnlyList<Metric> Metrics { get; }

    /// <summary>The epoch-end logs of the current or last Fit.</summary>
    public History History { get; } = new();

    /// <summary>
    /// Set it (from a callback) to end Fit, as Keras's <c>model.stop_training</c>: set at a batch end, the
    /// epoch's remaining batches are skipped; the epoch's validation pass and epoch-end hooks still run,
    /// then Fit ends. Each Fit clears it at its start.
    /// </summary>
    public bool StopTraining { get; set; }

    /// <summary>The epoch running now (0-based), or the last one run.</summary>
    public int Epoch { get; internal set; }

    /// <summary>
    /// The first epoch Fit runs. Fit sets it from its <c>initialEpoch</c> argument before the
    /// train-begin hooks; a callback may move it there (BackupAndRestore resumes this way).
    /// </summary>
    public int InitialEpoch { get; set; }

    /// <summary>The number of epochs the current Fit runs to (its <c>epochs</c> argument).</summary>
    public int Epochs { get; internal set; }

    /// <summary>
    /// Configures <paramref name="model"/> for Fit, Evaluate and Predict (replacing an earlier
    /// configuration) and returns the trainer.
    /// </summary>
    internal static Trainer Compile(Module model, Optimizer optimizer, Loss loss, IEnumerable<Metric>? metrics)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        var copies = new List<Metric>();
        var names = new HashSet<string>(StringComparer.Ordinal) { "loss" };
        foreach (var metric in metrics ?? [])
        {
            ArgumentNullException.ThrowIfNull(metric, nameof(metrics));
            if (!names.Add(metric.Name))
                throw new ArgumentException($"Compile: two values would be logged as \"{metric.Name}\"; give the metrics distinct names", nameof(metrics));
            copies.Add(metric.Clone());
        }
        var trainer = new Trainer(model, optimizer, loss, copies);
        ByModel.AddOrUpdate(model, trainer);
        return trainer;
    }

    /// <summary>The trainer <c>Compile</c> made for <paramref name="model"/>; throws when the model was not compiled.</summary>
    internal static Trainer Of(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ByModel.TryGetValue(model, out var trainer)
            ? trainer
            : throw new InvalidOperationException($"{model.GetType().Name}: call model.Compile(optimizer, loss, metrics) before Fit, Evaluate or Predict");
    }
}
