namespace Kiln.NN;

/// <summary>
/// Layer normalization over the last dimensions of the input (PyTorch's <c>nn.LayerNorm</c>), with
/// an elementwise weight (ones) and bias (zeros) of the normalized shape. <c>new LayerNorm()</c> is
/// lazy (Keras's <c>LayerNormalization()</c>): it normalizes over the last dimension, whose size it
/// takes from its first input.
/// </summary>
public class LayerNorm : Module
{
    private int[] _normalizedShape;
    private Tensor? _weight;
    private Tensor? _bias;

    /// <summary>Normalizes over the last dimension, of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
        : this([normalizedShape], eps, elementwiseAffine)
    {
    }

    /// <summary>Normalizes over the last dimensions, which must be <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
        : this(eps, elementwiseAffine, normalizedShape ?? throw new ArgumentNullException(nameof(normalizedShape)))
    {
    }

    /// <summary>
    /// A lazy layer normalization over the last dimension: its size is taken from the first input, and
    /// the weight and bias are created then. Call the model once, or <see cref="Module.Build(int[])"/>
    /// it, before creating an optimizer.
    /// </summary>
    public LayerNorm(double eps = 1e-5, bool elementwiseAffine = true)
        : this(eps, elementwiseAffine, normalizedShape: null)
    {
    }

    private LayerNorm(double eps, bool elementwiseAffine, int[]? normalizedShape)
    {
        if (normalizedShape is not null)
        {
            if (normalizedShape.Length == 0) throw new ArgumentException("LayerNorm: normalizedShape must have at least one dimension", nameof(normalizedShape));
            foreach (var d in normalizedShape) RequirePositive(d, nameof(normalizedShape));
        }
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "LayerNorm: eps must be a finite number >= 0");
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        _normalizedShape = [0];
        if (normalizedShape is not null) Create(normalizedShape.ToArray());
        else DeferBuild();
    }

    /// <summary>The trailing dimensions normalized over; [0] while a lazy layer has not seen an input.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    /// <summary>Added to the variance before its square root.</summary>
    public double Eps { get; }

    /// <summary>Whether the layer has a learned elementwise weight and bias.</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>Elementwise scale of <see cref="NormalizedShape"/> (null unless <see cref="ElementwiseAffine"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? Weight => AwaitsInput ? throw NotBuiltError(nameof(Weight)) : _weight;

    /// <summary>Elementwise shift of <see cref="NormalizedShape"/> (null unless <see cref="ElementwiseAffine"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => AwaitsInput ? throw NotBuiltError(nameof(Bias)) : _bias;

    /// <summary>Sets the weight to ones and the bias to zeros (nothing before a lazy layer is built).</summary>
    public void ResetParameters()
    {
        if (_weight is null) return;
        Init.Ones(_weight);
        Init.Zeros(_bias!);
    }

    /// <summary>Normalizes each input over its last dimensions.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (AwaitsInput)
        {
            if (input.Rank == 0) throw InputError("input is a scalar; a lazy LayerNorm normalizes over the last dimension");
            BuildOnce(input.ShapeArray[^1]);
        }
        int k = _normalizedShape.Length;
        bool fits = input.Rank >= k;
        for (int i = 0; fits && i < k; i++) fits = input.ShapeArray[input.Rank - k + i] == _normalizedShape[i];
        if (!fits) throw InputError($"input {input.Shape} does not end with the normalized shape {Shape.Format(_normalizedShape)}");
        return F.LayerNorm(input, _normalizedShape, _weight, _bias, Eps);
    }

    private void Create(int[] normalizedShape)
    {
        if (ElementwiseAffine)
        {
            _weight = NewParameter(normalizedShape);
            _bias = NewParameter(normalizedShape);
        }
        _normalizedShape = normalizedShape;
        ResetParameters();
    }

    private protected override void Materialize(int inputSize, bool initialize) => Create([inputSize]);

    private protected override void Unmaterialize()
    {
        _weight = _bias = null;
        _normalizedShape = [0];
    }

    private protected override string? SizeMember => ElementwiseAffine ? "weight" : null;

    private protected override int InputSizeFromSaved(int[] shape) => shape.Length == 1 ? shape[0] : 0;

    private protected override string SizeMemberShape => "[normalized_size]";

    protected override string? Signature => AwaitsInput ? "[?]" : Shape.Format(_normalizedShape);

    protected override string ExtraRepr() => $"{PyRepr.Tuple(_normalizedShape)}, eps={PyRepr.Float(Eps)}, elementwise_affine={PyRepr.Bool(ElementwiseAffine)}";
}
