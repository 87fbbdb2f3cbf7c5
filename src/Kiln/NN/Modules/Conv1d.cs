namespace Kiln.NN;

/// <summary>
/// 1-D convolution over [N, C, L] (or [C, L]) input (PyTorch's <c>nn.Conv1d</c>): weight
/// [outChannels, inChannels / groups, kernelSize] and bias [outChannels], initialized as in PyTorch.
/// </summary>
public class Conv1d : Module
{
    /// <summary>
    /// A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels with a
    /// window of <paramref name="kernelSize"/>; <paramref name="padding"/> is an int (added at both ends)
    /// or <see cref="NN.Padding.Same"/>.
    /// </summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default,
        int dilation = 1, int groups = 1, bool bias = true)
    {
        RequirePositive(inChannels, nameof(inChannels));
        RequirePositive(outChannels, nameof(outChannels));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride, nameof(stride));
        RequirePositive(dilation, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        RequirePositive(groups, nameof(groups));
        if (!padding.IsSame && padding.Height != padding.Width)
            throw new ArgumentException($"Conv1d: padding {padding} has two values; a 1-d convolution takes one", nameof(padding));
        if (inChannels % groups != 0) throw new ArgumentException($"Conv1d: inChannels ({inChannels}) must be divisible by groups ({groups})", nameof(groups));
        if (outChannels % groups != 0) throw new ArgumentException($"Conv1d: outChannels ({outChannels}) must be divisible by groups ({groups})", nameof(groups));
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        Weight = NewParameter(outChannels, inChannels / groups, kernelSize);
        Bias = bias ? NewParameter(outChannels) : null;
        ResetParameters();
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Length of the window.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <summary>Zero padding at each end.</summary>
    public Padding Padding { get; }

    /// <summary>Spacing between window taps.</summary>
    public int Dilation { get; }

    /// <summary>Number of channel groups.</summary>
    public int Groups { get; }

    /// <summary>The weight, [OutChannels, InChannels / Groups, KernelSize].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, [OutChannels], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Draws the weight and bias again, as PyTorch initializes them.</summary>
    public void ResetParameters() => Init.LayerDefault(Weight, Bias);

    /// <summary>The convolution of [N, InChannels, L] (or [InChannels, L]) input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 3)) throw InputError($"input must be [N, C, L] or [C, L], got {input.Shape}");
        int channels = input.ShapeArray[^2];
        if (channels != InChannels) throw InputError($"input has {channels} channels, expected {InChannels} (input {input.Shape})");
        return F.Conv1d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
    }

    protected override string? Signature => $"{InChannels}->{OutChannels}, kernel {KernelSize}";

    protected override string ExtraRepr()
        => ConvRepr.Format(InChannels, OutChannels, [KernelSize], [Stride], Padding.IsSame ? null : [Padding.Width], [Dilation], [0], Groups, Bias is not null);
}
