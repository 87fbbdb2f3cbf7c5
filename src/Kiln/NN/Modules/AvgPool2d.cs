namespace Kiln.NN;

/// <summary>2-D average pooling over [N, C, H, W] (or [C, H, W]) input (PyTorch's <c>nn.AvgPool2d</c>).</summary>
public class AvgPool2d : Module
{
    /// <summary>
    /// Average pooling with a <paramref name="kernelSize"/> window; <paramref name="stride"/> defaults to
    /// the window size. With <paramref name="countIncludePad"/> the zero padding counts in the average.
    /// </summary>
    public AvgPool2d(Size2d kernelSize, Size2d? stride = null, Padding padding = default, bool ceilMode = false, bool countIncludePad = true)
    {
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride ?? 1, nameof(stride));
        RequireNonNegative(padding, nameof(padding));
        if (padding.IsSame) throw new ArgumentException("AvgPool2d: padding 'same' is not supported for pooling; give the padding in rows and columns", nameof(padding));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    /// <summary>Height and width of the window.</summary>
    public Size2d KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public Size2d Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public Padding Padding { get; }

    /// <summary>Whether the output size rounds up instead of down.</summary>
    public bool CeilMode { get; }

    /// <summary>Whether padded zeros count in each average.</summary>
    public bool CountIncludePad { get; }

    /// <summary>The mean of each window.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        return F.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);
    }

    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}
