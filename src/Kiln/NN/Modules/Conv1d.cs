namespace Kiln.NN;

/// <summary>
/// 1-D convolution over [N, C, L] (or [C, L]) input (PyTorch's <c>nn.Conv1d</c>): weight
/// [outChannels, inChannels / groups, kernelSize] and bias [outChannels], initialized as in PyTorch.
/// <c>new Conv1d(32, kernelSize: 3)</c> is lazy (PyTorch's <c>LazyConv1d</c>): it learns inChannels
/// from its first input.
/// </summary>
public class Conv1d : Module
{
    private readonly bool _hasBias;
    private Tensor? _weight;
    private Tensor? _bias;

    /// <summary>
    /// A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels with a
    /// window of <paramref name="kernelSize"/>; <paramref name="padding"/> is an int (added at both ends)
    /// or <see cref="NN.Padding.Same"/>.
    /// </summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default,
        int dilation = 1, int groups = 1, bool bias = true)
        : this(outChannels, kernelSize, stride, padding, dilation, groups, bias, inChannels)
    {
    }

    /// <summary>
    /// A lazy convolution to <paramref name="outChannels"/> channels: <see cref="InChannels"/> is
    /// dimension -2 of its first input, and the weight and bias are created and drawn then, exactly as
    /// the eager constructor would draw them at that point of the random stream. Until then it has no
    /// parameters: call the model once, or <see cref="Module.Build(int[])"/> it, before creating an
    /// optimizer. A null <paramref name="stride"/> or <paramref name="dilation"/> is 1; give them by
    /// name (<c>stride: 2</c>): three leading ints are the eager <c>(inChannels, outChannels, kernelSize)</c>.
    /// </summary>
    public Conv1d(int outChannels, int kernelSize, int? stride = null, Padding padding = default,
        int? dilation = null, int groups = 1, bool bias = true)
        : this(outChannels, kernelSize, stride ?? 1, padding, dilation ?? 1, groups, bias, inChannels: null)
    {
    }

    private Conv1d(int outChannels, int kernelSize, int stride, Padding padding, int dilation, int groups, bool bias, int? inChannels)
    {
        if (inChannels is { } n) RequirePositive(n, nameof(inChannels));
        RequirePositive(outChannels, nameof(outChannels));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride, nameof(stride));
        RequirePositive(dilation, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        RequirePositive(groups, nameof(groups));
        if (!padding.IsSame && padding.Height != padding.Width)
            throw new ArgumentException($"Conv1d: padding {padding} has two values; a 1-d convolution takes one", nameof(padding));
        if (inChannels is { } c && c % groups != 0) throw new ArgumentException($"Conv1d: inChannels ({inChannels}) must be divisible by groups ({groups})", nameof(groups));
        if (outChannels % groups != 0) throw new ArgumentException($"Conv1d: outChannels ({outChannels}) must be divisible by groups ({groups})", nameof(groups));
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        _hasBias = bias;
        if (inChannels is { } size) Materialize(size, initialize: true);
        else DeferBuild();
    }

    /// <summary>Channels of the input; 0 while a lazy layer has not seen an input (as PyTorch's LazyConv1d reports).</summary>
    public int InChannels { get; private set; }

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

    /// <summary>The weight, [OutChannels, InChannels / Groups, KernelSize]; reading it before a lazy layer is built throws.</summary>
    public Tensor Weight => AwaitsInput ? throw NotBuiltError(nameof(Weight)) : _weight!;

    /// <summary>The bias, [OutChannels], or null when the layer has none; reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => AwaitsInput ? throw NotBuiltError(nameof(Bias)) : _bias;

    /// <summary>Draws the weight and bias again, as PyTorch initializes them (nothing before a lazy layer is built: it draws them when it is).</summary>
    public void ResetParameters()
    {
        if (!AwaitsInput) Init.LayerDefault(_weight!, _bias);
    }

    /// <summary>The convolution of [N, InChannels, L] (or [InChannels, L]) input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 3)) throw InputError($"input must be [N, C, L] or [C, L], got {input.Shape}");
        int channels = input.ShapeArray[^2];
        if (AwaitsInput) BuildForChannels(channels, Groups, input);
        if (channels != InChannels) throw InputError($"input has {channels} channels, expected {InChannels} (input {input.Shape})");
        return F.Conv1d(input, _weight!, _bias, Stride, Padding, Dilation, Groups);
    }

    private protected override void Materialize(int inputSize, bool initialize)
    {
        (_weight, _bias) = NewWeightAndBias([OutChannels, inputSize / Groups, KernelSize], _hasBias ? OutChannels : null, initialize);
        InChannels = inputSize;
    }

    private protected override void Unmaterialize() => (_weight, _bias, InChannels) = (null, null, 0);

    private protected override string? SizeMember => "weight";

    private protected override int InputSizeFromSaved(int[] shape)
        => shape.Length == 3 && shape[0] == OutChannels && shape[2] == KernelSize ? shape[1] * Groups : 0;

    private protected override string SizeMemberShape => $"[{OutChannels}, in_channels / {Groups}, {KernelSize}]";

    protected override string? Signature => $"{(InChannels > 0 ? InChannels : "?")}->{OutChannels}, kernel {KernelSize}";

    protected override string ExtraRepr()
        => ConvRepr.Format(InChannels, OutChannels, [KernelSize], [Stride], Padding.IsSame ? null : [Padding.Width], [Dilation], [0], Groups, _hasBias);
}
