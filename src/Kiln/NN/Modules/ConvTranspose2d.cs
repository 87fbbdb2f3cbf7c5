namespace Kiln.NN;

/// <summary>
/// 2-D transposed convolution (PyTorch's <c>nn.ConvTranspose2d</c>), the upsampling counterpart of
/// <see cref="Conv2d"/>: weight [inChannels, outChannels / groups, kH, kW] and bias [outChannels],
/// initialized as in PyTorch (U(±1/√fan_in), fan_in = outChannels / groups · kH · kW). See
/// <see cref="F.ConvTranspose2d"/> for the output size.
/// </summary>
public class ConvTranspose2d : Module
{
    private readonly bool _hasBias;
    private Tensor? _weight;
    private Tensor? _bias;

    /// <summary>
    /// A transposed convolution from <paramref name="inChannels"/> to <paramref name="outChannels"/>
    /// channels (PyTorch's argument order); <paramref name="outputPadding"/> must be smaller than the
    /// stride or the dilation.
    /// </summary>
    public ConvTranspose2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
        Size2d? outputPadding = null, int groups = 1, bool bias = true, Size2d? dilation = null)
        : this(outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation, inChannels)
    {
    }

    /// <summary>
    /// A lazy transposed convolution to <paramref name="outChannels"/> channels (PyTorch's
    /// <c>LazyConvTranspose2d</c>): <see cref="InChannels"/> is dimension -3 of its first input, and the
    /// weight and bias are created and drawn then, exactly as the eager constructor would draw them.
    /// Until then it has no parameters: call the model once, or <see cref="Module.Build(int[])"/> it,
    /// before creating an optimizer. Give the stride and what follows by name (<c>stride: 2</c>).
    /// </summary>
    public ConvTranspose2d(int outChannels, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
        Size2d? outputPadding = null, int groups = 1, bool bias = true, Size2d? dilation = null)
        : this(outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation, inChannels: null)
    {
    }

    private ConvTranspose2d(int outChannels, Size2d kernelSize, Size2d? stride, Padding padding, Size2d? outputPadding, int groups,
        bool bias, Size2d? dilation, int? inChannels)
    {
        if (inChannels is { } n) RequirePositive(n, nameof(inChannels));
        RequirePositive(outChannels, nameof(outChannels));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(stride ?? 1, nameof(stride));
        RequirePositive(dilation ?? 1, nameof(dilation));
        RequireNonNegative(padding, nameof(padding));
        RequirePositive(groups, nameof(groups));
        if (padding.IsSame) throw new ArgumentException("ConvTranspose2d: padding 'same' is not supported; give the padding in rows and columns", nameof(padding));
        var s = stride ?? 1;
        var d = dilation ?? 1;
        var o = outputPadding ?? 0;
        if (o.Height < 0 || o.Width < 0 || o.Height >= Math.Max(s.Height, d.Height) || o.Width >= Math.Max(s.Width, d.Width))
            throw new ArgumentOutOfRangeException(nameof(outputPadding), o, $"ConvTranspose2d: outputPadding {o} must be non-negative and smaller than either the stride {s} or the dilation {d}");
        if (inChannels is { } c && c % groups != 0) throw new ArgumentException($"ConvTranspose2d: inChannels ({inChannels}) must be divisible by groups ({groups})", nameof(groups));
        if (outChannels % groups != 0) throw new ArgumentException($"ConvTranspose2d: outChannels ({outChannels}) must be divisible by groups ({groups})", nameof(groups));
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = s;
        Padding = padding;
        OutputPadding = o;
        Groups = groups;
        Dilation = d;
        _hasBias = bias;
        if (inChannels is { } size) Materialize(size, initialize: true);
        else DeferBuild();
    }

    /// <summary>Channels of the input; 0 while a lazy layer has not seen an input (as PyTorch's LazyConvTranspose2d reports).</summary>
    public int InChannels { get; private set; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Height and width of the window.</summary>
    public Size2d KernelSize { get; }

    /// <summary>Step between the windows of the matching convolution (the upsampling factor).</summary>
    public Size2d Stride { get; }

    /// <summary>Rows and columns removed from each side of the full output.</summary>
    public Padding Padding { get; }

    /// <summary>Rows and columns added at the bottom and right of the output.</summary>
    public Size2d OutputPadding { get; }

    /// <summary>Number of channel groups.</summary>
    public int Groups { get; }

    /// <summary>Spacing between window taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>The weight, [InChannels, OutChannels / Groups, kH, kW]; reading it before a lazy layer is built throws.</summary>
    public Tensor Weight => AwaitsInput ? throw NotBuiltError(nameof(Weight)) : _weight!;

    /// <summary>The bias, [OutChannels], or null when the layer has none; reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => AwaitsInput ? throw NotBuiltError(nameof(Bias)) : _bias;

    /// <summary>Draws the weight and bias again, as PyTorch initializes them (nothing before a lazy layer is built: it draws them when it is).</summary>
    public void ResetParameters()
    {
        if (!AwaitsInput) Init.LayerDefault(_weight!, _bias);
    }

    /// <summary>The transposed convolution of [N, InChannels, H, W] (or [InChannels, H, W]) input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        int channels = input.ShapeArray[^3];
        if (AwaitsInput) BuildForChannels(channels, Groups, input);
        if (channels != InChannels) throw InputError($"input has {channels} channels, expected {InChannels} (input {input.Shape})");
        return F.ConvTranspose2d(input, _weight!, _bias, Stride, Padding, OutputPadding, Groups, Dilation);
    }

    private protected override void Materialize(int inputSize, bool initialize)
    {
        (_weight, _bias) = NewWeightAndBias([inputSize, OutChannels / Groups, KernelSize.Height, KernelSize.Width], _hasBias ? OutChannels : null, initialize);
        InChannels = inputSize;
    }

    private protected override void Unmaterialize() => (_weight, _bias, InChannels) = (null, null, 0);

    private protected override string? SizeMember => "weight";

    private protected override int InputSizeFromSaved(int[] shape)
        => shape.Length == 4 && shape[1] * Groups == OutChannels && shape[2] == KernelSize.Height && shape[3] == KernelSize.Width && shape[0] % Groups == 0 ? shape[0] : 0;

    private protected override string SizeMemberShape => $"[in_channels, {OutChannels / Groups}, {KernelSize.Height}, {KernelSize.Width}]";

    protected override string? Signature => $"{(InChannels > 0 ? InChannels : "?")}->{OutChannels}, {KernelSize.Height}x{KernelSize.Width}";

    protected override string ExtraRepr()
        => ConvRepr.Format(InChannels, OutChannels, [KernelSize.Height, KernelSize.Width], [Stride.Height, Stride.Width],
            [Padding.Height, Padding.Width], [Dilation.Height, Dilation.Width], [OutputPadding.Height, OutputPadding.Width], Groups, _hasBias);
}
