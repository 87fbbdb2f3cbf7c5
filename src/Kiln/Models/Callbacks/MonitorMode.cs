namespace Kiln.Models;

/// <summary>Whether a monitored value (EarlyStopping, ReduceLROnPlateau) improves by going down or up (Keras's <c>mode</c>).</summary>
public enum MonitorMode
{
    /// <summary>
    /// Decided from the name: accuracies, AUC, precision, recall, F1 and IoU ("val_accuracy", "auc",
    /// "top_k_accuracy", ...) improve upwards; losses, errors and any other name downwards. Pass Min or
    /// Max for a custom metric whose name says otherwise.
    /// </summary>
    Auto,

    /// <summary>Lower is better (a loss or an error).</summary>
    Min,

    /// <summary>Higher is better (an accuracy).</summary>
    Max,
}
