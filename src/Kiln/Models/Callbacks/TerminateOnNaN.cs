namespace Kiln.Models;

/// <summary>
/// Stops Fit as soon as the training loss is NaN or infinite (Keras's TerminateOnNaN): after each
/// training batch it reads "loss" from the logs (the epoch's running mean, which turns NaN or infinite
/// with the first such batch), prints "Batch N: Invalid loss, terminating training" and sets
/// <see cref="Trainer.StopTraining"/>.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>Where the message goes; null for the console's output stream (for tests).</summary>
    internal TextWriter? Output { get; set; }

    /// <summary>Stops training when the batch's loss is not finite.</summary>
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
    {
        if (!logs.TryGetValue("loss", out double loss) || double.IsFinite(loss)) return;
        (Output ?? Console.Out).WriteLine($"Batch {batch}: Invalid loss, terminating training");
        Trainer.StopTraining = true;
    }
}
