namespace Kiln.NN;

/// <summary>
/// y = x·Wᵀ + b over the last dimension (PyTorch's <c>nn.Linear</c>): weight [outFeatures,
/// inFeatures] and bias [outFeatures], both initialized from U(±1/√inFeatures) as in PyTorch.
/// <c>new Linear(10)</c> is lazy (PyTorch's <c>LazyLinear</c>, Keras's <c>Dense(10)</c>): it learns
/// inFeatures from its first input and only then creates its parameters.
/// </summary>
public class Linear : Module
{
    private readonly bool _hasBias;
    private Tensor? _weight;
    private Tensor? _bias;

    /// <summary>A linear layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>, with a bias unless <paramref name="bias"/> is false.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
        : this(outFeatures, bias, inFeatures)
    {
    }

    /// <summary>
    /// A lazy linear layer to <paramref name="outFeatures"/>: <see cref="InFeatures"/> is the size of
    /// the last dimension of its first input, and the weight and bias are created and drawn then,
    /// exactly as <c>new Linear(inFeatures, outFeatures)</c> would draw them at that point of the
    /// random stream. Until then it has no parameters (<see cref="Module.IsBuilt"/> is false): call
    /// the model once, or <see cref="Module.Build(int[])"/> it, before creating an optimizer.
    /// </summary>
    public Linear(int outFeatures, bool bias = true)
        : this(outFeatures, bias, inFeatures: null)
    {
    }

    private Linear(int outFeatures, bool bias, int? inFeatures)
    {
        if (inFeatures is { } n) RequirePositive(n, nameof(inFeatures));
        RequirePositive(outFeatures, nameof(outFeatures));
        OutFeatures = outFeatures;
        _hasBias = bias;
        if (inFeatures is { } size) Materialize(size, initialize: true);
        else DeferBuild();
    }

    /// <summary>Size of each input's last dimension; 0 while a lazy layer has not seen an input (as PyTorch's LazyLinear reports).</summary>
    public int InFeatures { get; private set; }

    /// <summary>Size of each output's last dimension.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight, [OutFeatures, InFeatures]; reading it before a lazy layer is built throws.</summary>
    public Tensor Weight => AwaitsInput ? throw NotBuiltError(nameof(Weight)) : _weight!;

    /// <summary>The bias, [OutFeatures], or null when the layer has none; reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => AwaitsInput ? throw NotBuiltError(nameof(Bias)) : _bias;

    /// <summary>Draws the weight and bias again (KaimingUniform with a = √5, bias U(±1/√inFeatures)); nothing before a lazy layer is built, which draws them when it is.</summary>
    public void ResetParameters()
    {
        if (!AwaitsInput) Init.LayerDefault(_weight!, _bias);
    }

    /// <summary>x·Wᵀ + b for input [..., InFeatures].</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 0) throw InputError($"input is a scalar; expected [..., {(InFeatures > 0 ? InFeatures : "in_features")}]");
        int features = input.ShapeArray[^1];
        if (AwaitsInput) BuildOnce(features);
        if (features != InFeatures) throw InputError($"input has {features} features, expected {InFeatures}");
        return F.Linear(input, _weight!, _bias);
    }

    private protected override void Materialize(int inputSize, bool initialize)
    {
        (_weight, _bias) = NewWeightAndBias([OutFeatures, inputSize], _hasBias ? OutFeatures : null, initialize);
        InFeatures = inputSize;
    }

    private protected override void Unmaterialize() => (_weight, _bias, InFeatures) = (null, null, 0);

    private protected override string? SizeMember => "weight";

    private protected override int InputSizeFromSaved(int[] shape) => shape.Length == 2 && shape[0] == OutFeatures ? shape[1] : 0;

    private protected override string SizeMemberShape => $"[{OutFeatures}, in_features]";

    protected override string? Signature => $"{(InFeatures > 0 ? InFeatures : "?")}->{OutFeatures}";

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={PyRepr.Bool(_hasBias)}";
}
