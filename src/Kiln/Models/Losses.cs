using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// The built-in training losses for <c>Compile</c>, thin wrappers over <see cref="F"/> in PyTorch's
/// argument order (prediction, target), each the mean over the batch. Pass one as a method group
/// (<c>model.Compile(new Adam(), Losses.CrossEntropy)</c>), or a configured one
/// (<c>Losses.Huber(delta: 2)</c>). Fit also knows each one's per-sample form, which
/// <c>classWeight</c> needs to weight the samples of a batch.
/// </summary>
public static class Losses
{
    // The per-sample forms ([batch] values) of the unconfigured losses, found by delegate equality.
    private static readonly (Loss Loss, Loss PerSample)[] PerSampleForms =
    [
        (CrossEntropy, static (p, t) => PerSampleMean(F.CrossEntropy(p, t, reduction: Reduction.None))),
        (NllLoss, static (p, t) => PerSampleMean(F.NllLoss(p, t, reduction: Reduction.None))),
        (BinaryCrossEntropy, static (p, t) => PerSampleMean(F.BceLoss(p, t, reduction: Reduction.None))),
        (BinaryCrossEntropyWithLogits, static (p, t) => PerSampleMean(F.BceWithLogitsLoss(p, t, reduction: Reduction.None))),
        (MeanSquaredError, static (p, t) => PerSampleMean(F.MseLoss(p, t, Reduction.None))),
        (MeanAbsoluteError, static (p, t) => PerSampleMean(F.L1Loss(p, t, Reduction.None))),
        (Huber, new Configured(ConfiguredKind.Huber, 1.0).PerSample),
        (SmoothL1, new Configured(ConfiguredKind.SmoothL1, 1.0).PerSample),
    ];

    /// <summary>
    /// Cross entropy of logits [N, C] (or [N, C, d1, ...]) against int64 class indices [N] (or class
    /// probabilities of the logits' shape), as <see cref="F.CrossEntropy"/>: the model ends without a softmax.
    /// </summary>
    public static Tensor CrossEntropy(Tensor prediction, Tensor target) => F.CrossEntropy(prediction, target);

    /// <summary>Negative log likelihood of log-probabilities [N, C] at int64 class indices [N] (a model ending in LogSoftmax), as <see cref="F.NllLoss"/>.</summary>
    public static Tensor NllLoss(Tensor prediction, Tensor target) => F.NllLoss(prediction, target);

    /// <summary>Binary cross entropy of probabilities (a model ending in Sigmoid) against targets in [0, 1] of the same shape, as <see cref="F.BceLoss"/>.</summary>
    public static Tensor BinaryCrossEntropy(Tensor prediction, Tensor target) => F.BceLoss(prediction, target);

    /// <summary>Binary cross entropy of logits against targets in [0, 1] of the same shape, computed stably (<see cref="F.BceWithLogitsLoss"/>); prefer it to a Sigmoid and <see cref="BinaryCrossEntropy"/>.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor prediction, Tensor target) => F.BceWithLogitsLoss(prediction, target);

    /// <summary>Mean squared error (<see cref="F.MseLoss"/>).</summary>
    public static Tensor MeanSquaredError(Tensor prediction, Tensor target) => F.MseLoss(prediction, target);

    /// <summary>Mean absolute error (<see cref="F.L1Loss"/>).</summary>
    public static Tensor MeanAbsoluteError(Tensor prediction, Tensor target) => F.L1Loss(prediction, target);

    /// <summary>Huber loss with delta 1: 0.5·d² where |d| &lt; 1, else |d| - 0.5 (Keras's and PyTorch's HuberLoss).</summary>
    public static Tensor Huber(Tensor prediction, Tensor target) => F.SmoothL1Loss(prediction, target);

    /// <summary>Huber loss with <paramref name="delta"/>: 0.5·d² where |d| &lt; delta, else delta·(|d| - 0.5·delta); quadratic near zero, linear (robust to outliers) beyond.</summary>
    public static Loss Huber(double delta)
    {
        if (!(delta > 0) || double.IsInfinity(delta))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Losses.Huber: delta must be positive and finite");
        return new Configured(ConfiguredKind.Huber, delta).Mean;
    }

    /// <summary>Smooth L1 loss with beta 1 (<see cref="F.SmoothL1Loss"/>); with beta 1 it equals <see cref="Huber(Tensor, Tensor)"/>.</summary>
    public static Tensor SmoothL1(Tensor prediction, Tensor target) => F.SmoothL1Loss(prediction, target);

    /// <summary>Smooth L1 loss with <paramref name="beta"/>: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta (PyTorch's SmoothL1Loss; Huber divided by beta).</summary>
    public static Loss SmoothL1(double beta)
    {
        if (!(beta >= 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "Losses.SmoothL1: beta must be non-negative and finite");
        return new Configured(ConfiguredKind.SmoothL1, beta).Mean;
    }

    /// <summary>The per-sample form ([batch] values whose mean is the loss) of a built-in loss, or null for any other.</summary>
    internal static Loss? PerSampleForm(Loss loss)
    {
        if (loss.Target is Configured configured) return configured.PerSample;
        foreach (var (builtIn, perSample) in PerSampleForms)
            if (loss.Equals(builtIn)) return perSample;
        return null;
    }

    /// <summary>Per-element losses [N, ...] averaged to one value per sample [N].</summary>
    private static Tensor PerSampleMean(Tensor losses) => losses.Rank <= 1 ? losses : losses.Reshape(losses.Size(0), -1).Mean(1);

    private enum ConfiguredKind
    {
        Huber,
        SmoothL1,
    }

    /// <summary>A loss with a setting; its delegates' target, so <see cref="PerSampleForm"/> finds the per-sample form.</summary>
    private sealed class Configured(ConfiguredKind kind, double setting)
    {
        internal Tensor Mean(Tensor prediction, Tensor target) => Elementwise(prediction, target, Reduction.Mean);

        internal Tensor PerSample(Tensor prediction, Tensor target) => PerSampleMean(Elementwise(prediction, target, Reduction.None));

        private Tensor Elementwise(Tensor prediction, Tensor target, Reduction reduction) => kind switch
        {
            ConfiguredKind.Huber when setting == 1.0 => F.SmoothL1Loss(prediction, target, reduction),
            ConfiguredKind.Huber => F.SmoothL1Loss(prediction, target, reduction, beta: setting) * setting,
            _ => F.SmoothL1Loss(prediction, target, reduction, beta: setting),
        };
    }
}
