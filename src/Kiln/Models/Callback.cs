namespace Kiln.Models;

/// <summary>
/// Code that runs at the points of Fit,
/// Evaluate and Predict, with Keras's hooks and order: train begin, then per epoch (epoch begin,
/// per batch begin/end, the validation pass with its test hooks, epoch end), train end. Every hook
/// does nothing by default; override the ones you need. <c>logs</c> maps names ("loss",
/// "accuracy", "val_loss", ...) to values; at batch end the values are running means over the epoch
/// so far; a callback may add entries (for example "lr") that later callbacks and the History see.
/// </summary>
public abstract class Callback
{
    private Trainer? _trainer;

    /// <summary>The trainer running this callback; set before the first hook of a Fit, Evaluate or Predict.</summary>
    public Trainer Trainer
    {
        get => _trainer ?? throw new InvalidOperationException($"{GetType().Name}: the callback is not attached to a trainer yet (it is during Fit, Evaluate and Predict)");
        internal set => _trainer = value;
    }

    /// <summary>The model being trained (<c>Trainer.Model</c>).</summary>
    public Kiln.NN.Module Model => Trainer.Model;

    /// <summary>Before the first epoch of a Fit.</summary>
    public virtual void OnTrainBegin(IDictionary<string, double> logs) { }

    /// <summary>After the last epoch of a Fit (also when a callback stopped it early).</summary>
    public virtual void OnTrainEnd(IDictionary<string, double> logs) { }

    /// <summary>Before epoch <paramref name="epoch"/> (0-based).</summary>
    public virtual void OnEpochBegin(int epoch, IDictionary<string, double> logs) { }

    /// <summary>After epoch <paramref name="epoch"/> and its validation pass; <paramref name="logs"/> holds the epoch's training and validation values.</summary>
    public virtual void OnEpochEnd(int epoch, IDictionary<string, double> logs) { }

    /// <summary>Before training batch <paramref name="batch"/> of the epoch (0-based).</summary>
    public virtual void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After training batch <paramref name="batch"/> has updated the weights.</summary>
    public virtual void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) { }

    /// <summary>Before an evaluation pass (Evaluate, or the validation pass of an epoch).</summary>
    public virtual void OnTestBegin(IDictionary<string, double> logs) { }

    /// <summary>After an evaluation pass; <paramref name="logs"/> holds its values (without the "val_" prefix).</summary>
    public virtual void OnTestEnd(IDictionary<string, double> logs) { }

    /// <summary>Before evaluation batch <paramref name="batch"/>.</summary>
    public virtual void OnTestBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After evaluation batch <paramref name="batch"/>.</summary>
    public virtual void OnTestBatchEnd(int batch, IDictionary<string, double> logs) { }

    /// <summary>Before a Predict.</summary>
    public virtual void OnPredictBegin(IDictionary<string, double> logs) { }

    /// <summary>After a Predict.</summary>
    public virtual void OnPredictEnd(IDictionary<string, double> logs) { }

    /// <summary>Before prediction batch <paramref name="batch"/>.</summary>
    public virtual void OnPredictBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After prediction batch <paramref name="batch"/>.</summary>
    public virtual void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) { }
}
