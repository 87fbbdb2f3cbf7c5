namespace Kiln.NN;

/// <summary>
/// Group normalization (PyTorch's <c>nn.GroupNorm</c>): the channels of [N, C, ...] input split into
/// groups, each normalized over its channels and positions, then a per-channel weight (ones) and
/// bias (zeros).
/// </summary>
public class GroupNorm : Module
{
    /// <summary>Splits <paramref name="numChannels"/> channels into <paramref name="numGroups"/> groups, which must divide them.</summary>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true)
    {
        RequirePositive(numGroups, nameof(numGroups));
        RequirePositive(numChannels, nameof(numChannels));
        if (numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: numChannels ({numChannels}) must be divisible by numGroups ({numGroups})", nameof(numGroups));
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "GroupNorm: eps must be a finite number >= 0");
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        Affine = affine;
        if (affine)
        {
            Weight = NewParameter(numChannels);
            Bias = NewParameter(numChannels);
        }
        ResetParameters();
    }

    /// <summary>Number of groups.</summary>
    public int NumGroups { get; }

    /// <summary>Number of channels (dimension 1 of the input).</summary>
    public int NumChannels { get; }

    /// <summary>Added to the variance before its square root.</summary>
    public double Eps { get; }

    /// <summary>Whether the layer has a learned per-channel weight and bias.</summary>
    public bool Affine { get; }

    /// <summary>Per-channel scale [NumChannels] (null unless <see cref="Affine"/>).</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift [NumChannels] (null unless <see cref="Affine"/>).</summary>
    public Tensor? Bias { get; }

    /// <summary>Sets the weight to ones and the bias to zeros.</summary>
    public void ResetParameters()
    {
        if (Weight is null) return;
        Init.Ones(Weight);
        Init.Zeros(Bias!);
    }

    /// <summary>Normalizes each group of channels.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2) throw InputError($"input must be [N, C, ...], got {input.Shape}");
        if (input.ShapeArray[1] != NumChannels) throw InputError($"input has {input.ShapeArray[1]} channels, expected {NumChannels} (input {input.Shape})");
        return F.GroupNorm(input, NumGroups, Weight, Bias, Eps);
    }

    protected override string? Signature => $"{NumGroups} groups, {NumChannels} channels";

    protected override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={PyRepr.Float(Eps)}, affine={PyRepr.Bool(Affine)}";
}
