namespace Kiln.NN;

/// <summary>
/// 2-D convolution over [N, C, H, W] (or [C, H, W]) input (PyTorch's <c>nn.Conv2d</c>): weight
/// [outChannels, inChannels / groups, kH, kW] and bias [outChannels], initialized as in PyTorch
/// (U(±1/√fan_in), fan_in = inChannels / groups · kH · kW).
/// </summary>
public class Conv2d : Module
{
    /// <summary>
    /// A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels with
    /// a <paramref name="kernelSize"/> window; <paramref name="stride"/> and <paramref name="dilation"/>
    /// default to 1, <paramref name="padding"/> to none (an int, a (height, width) tuple, or
    /// <see cref="NN.Padding.Same"/>), and <paramref name="groups"/> must divide both channel counts.
    /// </summary>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
        Size2d? dilation = null, int groups = 1, bool bias = true)
    {
        RequirePositive(inChannels, nameof(inChannels));
        RequirePositive(outChannels, nameof(outChannels));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride ?? 1, nameof(stride));
        RequirePositive(dilation ?? 1, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        RequirePositive(groups, nameof(groups));
        if (inChannels % groups != 0) throw new ArgumentException($"Conv2d: inChannels ({inChannels}) must be divisible by groups ({groups})", nameof(groups));
        if (outChannels % groups != 0) throw new ArgumentException($"Conv2d: outChannels ({outChannels}) must be divisible by groups ({groups})", nameof(groups));
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding;
        Dilation = dilation ?? 1;
        Groups = groups;
        Weight = NewParameter(outChannels, inChannels / groups, kernelSize.Height, kernelSize.Width);
        Bias = bias ? NewParameter(outChannels) : null;
        ResetParameters();
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Height and width of the window.</summary>
    public Size2d KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public Size2d Stride { get; }

    /// <summary>Zero padding of the input.</summary>
    public Padding Padding { get; }

    /// <summary>Spacing between window taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>Number of channel groups.</summary>
    public int Groups { get; }

    /// <summary>The weight, [OutChannels, InChannels / Groups, kH, kW].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, [OutChannels], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Draws the weight and bias again, as PyTorch initializes them.</summary>
    public void ResetParameters() => Init.LayerDefault(Weight, Bias);

    /// <summary>The convolution of [N, InChannels, H, W] (or [InChannels, H, W]) input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        int channels = input.ShapeArray[^3];
        if (channels != InChannels) throw InputError($"input has {channels} channels, expected {InChannels} (input {input.Shape})");
        return F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
    }

    protected override string? Signature => $"{InChannels}->{OutChannels}, {KernelSize.Height}x{KernelSize.Width}";

    protected override string ExtraRepr()
        => ConvRepr.Format(InChannels, OutChannels, [KernelSize.Height, KernelSize.Width], [Stride.Height, Stride.Width],
            Padding.IsSame ? null : [Padding.Height, Padding.Width], [Dilation.Height, Dilation.Width], [0, 0], Groups, Bias is not null);
}
