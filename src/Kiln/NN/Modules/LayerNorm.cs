namespace Kiln.NN;

/// <summary>
/// Layer normalization over the last dimensions of the input (PyTorch's <c>nn.LayerNorm</c>), with
/// an elementwise weight (ones) and bias (zeros) of the normalized shape.
/// </summary>
public class LayerNorm : Module
{
    private readonly int[] _normalizedShape;

    /// <summary>Normalizes over the last dimension, of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
        : this([normalizedShape], eps, elementwiseAffine)
    {
    }

    /// <summary>Normalizes over the last dimensions, which must be <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0) throw new ArgumentException("LayerNorm: normalizedShape must have at least one dimension", nameof(normalizedShape));
        foreach (var d in normalizedShape) RequirePositive(d, nameof(normalizedShape));
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "LayerNorm: eps must be a finite number >= 0");
        _normalizedShape = normalizedShape.ToArray();
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        if (elementwiseAffine)
        {
            Weight = NewParameter(_normalizedShape);
            Bias = NewParameter(_normalizedShape);
        }
        ResetParameters();
    }

    /// <summary>The trailing dimensions normalized over.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    /// <summary>Added to the variance before its square root.</summary>
    public double Eps { get; }

    /// <summary>Whether the layer has a learned elementwise weight and bias.</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>Elementwise scale of <see cref="NormalizedShape"/> (null unless <see cref="ElementwiseAffine"/>).</summary>
    public Tensor? Weight { get; }

    /// <summary>Elementwise shift of <see cref="NormalizedShape"/> (null unless <see cref="ElementwiseAffine"/>).</summary>
    public Tensor? Bias { get; }

    /// <summary>Sets the weight to ones and the bias to zeros.</summary>
    public void ResetParameters()
    {
        if (Weight is null) return;
        Init.Ones(Weight);
        Init.Zeros(Bias!);
    }

    /// <summary>Normalizes each input over its last dimensions.</summary>
    public override Tensor Forward(Tensor input)
    {
        int k = _normalizedShape.Length;
        bool fits = input.Rank >= k;
        for (int i = 0; fits && i < k; i++) fits = input.ShapeArray[input.Rank - k + i] == _normalizedShape[i];
        if (!fits) throw InputError($"input {input.Shape} does not end with the normalized shape {Shape.Format(_normalizedShape)}");
        return F.LayerNorm(input, _normalizedShape, Weight, Bias, Eps);
    }

    protected override string? Signature => Shape.Format(_normalizedShape);

    protected override string ExtraRepr() => $"{PyRepr.Tuple(_normalizedShape)}, eps={PyRepr.Float(Eps)}, elementwise_affine={PyRepr.Bool(ElementwiseAffine)}";
}
