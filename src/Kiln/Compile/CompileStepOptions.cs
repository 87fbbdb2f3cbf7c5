namespace Kiln.Compile;

/// <summary>
/// How <c>Engine.CompileStep</c> treats the gradients between the backward pass and the optimizer's
/// update: what a PyTorch loop does with <c>clip_grad_norm_</c> or <c>clip_grad_value_</c> after
/// <c>loss.backward()</c>, and Keras with <c>global_clipnorm</c> or <c>clipvalue</c>. The clipping runs
/// inside the compiled step, over its gradient buffers, with the same arithmetic as
/// <see cref="Optim.GradClip"/>, so a compiled step gives the bits of the eager loop that clips.
/// </summary>
public sealed class CompileStepOptions
{
    /// <summary>
    /// Scales all gradients together so that their total norm is at most this (as
    /// <see cref="Optim.GradClip.ClipGradNorm"/> over the optimizer's parameters); null: no norm clipping.
    /// </summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>The p of the norm <see cref="ClipGradNorm"/> measures (2: Euclidean; infinity: the largest magnitude).</summary>
    public double NormType { get; init; } = 2;

    /// <summary>
    /// Clamps every gradient element to [−value, value] (as <see cref="Optim.GradClip.ClipGradValue"/>),
    /// before norm clipping when both are set; null: no value clipping.
    /// </summary>
    public double? ClipGradValue { get; init; }

    /// <summary>Throws naming the option when a value cannot be used.</summary>
    internal void Validate()
    {
        if (ClipGradNorm is { } norm && double.IsNaN(norm))
            throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), norm, "CompileStepOptions.ClipGradNorm must be a number");
        if (double.IsNaN(NormType))
            throw new ArgumentOutOfRangeException(nameof(NormType), NormType, "CompileStepOptions.NormType must be a number or infinity");
        if (ClipGradValue is { } value && !(value >= 0))
            throw new ArgumentOutOfRangeException(nameof(ClipGradValue), value, "CompileStepOptions.ClipGradValue must be >= 0");
    }

    /// <summary>Clips <paramref name="gradients"/> in place as these options say (nulls skipped); allocates nothing.</summary>
    internal void Apply(ReadOnlySpan<Tensor?> gradients)
    {
        if (ClipGradValue is { } value) Optim.GradClip.ClampInPlace(gradients, value);
        if (ClipGradNorm is { } norm) Optim.GradClip.ClipNormInPlace(gradients, norm, NormType, errorIfNonfinite: false);
    }
}
