namespace Kiln.NN;

/// <summary>
/// 2-D convolution over [N, C, H, W] (or [C, H, W]) input (PyTorch's <c>nn.Conv2d</c>): weight
/// [outChannels, inChannels / groups, kH, kW] and bias [outChannels], initialized as in PyTorch
/// (U(±1/√fan_in), fan_in = inChannels / groups · kH · kW). <c>new Conv2d(32, kernelSize: 5)</c> is
/// lazy (PyTorch's <c>LazyConv2d</c>, Keras's <c>Conv2D(32, 5)</c>): it learns inChannels from its
/// first input.
/// </summary>
public class Conv2d : Module
{
    private readonly bool _hasBias;
    private Tensor? _weight;
    private Tensor? _bias;

    /// <summary>
    /// A convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels with
    /// a <paramref name="kernelSize"/> window; <paramref name="stride"/> and <paramref name="dilation"/>
    /// default to 1, <paramref name="padding"/> to none (an int, a (height, width) tuple, or
    /// <see cref="NN.Padding.Same"/>), and <paramref name="groups"/> must divide both channel counts.
    /// </summary>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
        Size2d? dilation = null, int groups = 1, bool bias = true)
        : this(outChannels, kernelSize, stride, padding, dilation, groups, bias, inChannels)
    {
    }

    /// <summary>
    /// A lazy convolution to <paramref name="outChannels"/> channels: <see cref="InChannels"/> is
    /// dimension -3 of its first input, and the weight and bias are created and drawn then, exactly as
    /// the eager constructor would draw them at that point of the random stream. Until then it has no
    /// parameters: call the model once, or <see cref="Module.Build(int[])"/> it, before creating an
    /// optimizer. Give the stride and what follows by name (<c>stride: 2</c>): three leading ints are
    /// the eager <c>(inChannels, outChannels, kernelSize)</c>.
    /// </summary>
    public Conv2d(int outChannels, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
        Size2d? dilation = null, int groups = 1, bool bias = true)
        : this(outChannels, kernelSize, stride, padding, dilation, groups, bias, inChannels: null)
    {
    }

    private Conv2d(int outChannels, Size2d kernelSize, Size2d? stride, Padding padding, Size2d? dilation, int groups, bool bias, int? inChannels)
    {
        if (inChannels is { } n) RequirePositive(n, nameof(inChannels));
        RequirePositive(outChannels, nameof(outChannels));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride ?? 1, nameof(stride));
        RequirePositive(dilation ?? 1, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        RequirePositive(groups, nameof(groups));
        if (inChannels is { } c && c % groups != 0) throw new ArgumentException($"Conv2d: inChannels ({inChannels}) must be divisible by groups ({groups})", nameof(groups));
        if (outChannels % groups != 0) throw new ArgumentException($"Conv2d: outChannels ({outChannels}) must be divisible by groups ({groups})", nameof(groups));
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding;
        Dilation = dilation ?? 1;
        Groups = groups;
        _hasBias = bias;
        if (inChannels is { } size) Materialize(size, initialize: true);
        else DeferBuild();
    }

    /// <summary>Channels of the input; 0 while a lazy layer has not seen an input (as PyTorch's LazyConv2d reports).</summary>
    public int InChannels { get; private set; }

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

    /// <summary>The weight, [OutChannels, InChannels / Groups, kH, kW]; reading it before a lazy layer is built throws.</summary>
    public Tensor Weight => AwaitsInput ? throw NotBuiltError(nameof(Weight)) : _weight!;

    /// <summary>The bias, [OutChannels], or null when the layer has none; reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => AwaitsInput ? throw NotBuiltError(nameof(Bias)) : _bias;

    /// <summary>Draws the weight and bias again, as PyTorch initializes them (nothing before a lazy layer is built: it draws them when it is).</summary>
    public void ResetParameters()
    {
        if (!AwaitsInput) Init.LayerDefault(_weight!, _bias);
    }

    /// <summary>The convolution of [N, InChannels, H, W] (or [InChannels, H, W]) input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        int channels = input.ShapeArray[^3];
        if (AwaitsInput) BuildForChannels(channels, Groups, input);
        if (channels != InChannels) throw InputError($"input has {channels} channels, expected {InChannels} (input {input.Shape})");
        return F.Conv2d(input, _weight!, _bias, Stride, Padding, Dilation, Groups);
    }

    private protected override void Materialize(int inputSize, bool initialize)
    {
        (_weight, _bias) = NewWeightAndBias([OutChannels, inputSize / Groups, KernelSize.Height, KernelSize.Width], _hasBias ? OutChannels : null, initialize);
        InChannels = inputSize;
    }

    private protected override void Unmaterialize() => (_weight, _bias, InChannels) = (null, null, 0);

    private protected override string? SizeMember => "weight";

    private protected override int InputSizeFromSaved(int[] shape)
        => shape.Length == 4 && shape[0] == OutChannels && shape[2] == KernelSize.Height && shape[3] == KernelSize.Width ? shape[1] * Groups : 0;

    private protected override string SizeMemberShape => $"[{OutChannels}, in_channels / {Groups}, {KernelSize.Height}, {KernelSize.Width}]";

    protected override string? Signature => $"{(InChannels > 0 ? InChannels : "?")}->{OutChannels}, {KernelSize.Height}x{KernelSize.Width}";

    protected override string ExtraRepr()
        => ConvRepr.Format(InChannels, OutChannels, [KernelSize.Height, KernelSize.Width], [Stride.Height, Stride.Width],
            Padding.IsSame ? null : [Padding.Height, Padding.Width], [Dilation.Height, Dilation.Width], [0, 0], Groups, _hasBias);
}
