namespace Kiln.NN;

/// <summary>2-D max pooling over [N, C, H, W] (or [C, H, W]) input (PyTorch's <c>nn.MaxPool2d</c>).</summary>
public class MaxPool2d : Module
{
    /// <summary>
    /// Max pooling with a <paramref name="kernelSize"/> window; <paramref name="stride"/> defaults to the
    /// window size, <paramref name="padding"/> (implicit -∞, at most half the window) to none.
    /// </summary>
    public MaxPool2d(Size2d kernelSize, Size2d? stride = null, Padding padding = default, Size2d? dilation = null, bool ceilMode = false)
    {
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride ?? 1, nameof(stride));
        RequirePositive(dilation ?? 1, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        if (padding.IsSame) throw new ArgumentException("MaxPool2d: padding 'same' is not supported for pooling; give the padding in rows and columns", nameof(padding));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        Dilation = dilation ?? 1;
        CeilMode = ceilMode;
    }

    /// <summary>Height and width of the window.</summary>
    public Size2d KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public Size2d Stride { get; }

    /// <summary>Implicit padding on each side.</summary>
    public Padding Padding { get; }

    /// <summary>Spacing between window taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>Whether the output size rounds up (a last, partial window) instead of down.</summary>
    public bool CeilMode { get; }

    /// <summary>The maximum of each window.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        return F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);
    }

    protected override string ExtraRepr()
        => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={PyRepr.Bool(CeilMode)}";
}
