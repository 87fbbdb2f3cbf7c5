namespace Kiln.NN;

/// <summary>
/// y = x·Wᵀ + b over the last dimension (PyTorch's <c>nn.Linear</c>): weight [outFeatures,
/// inFeatures] and bias [outFeatures], both initialized from U(±1/√inFeatures) as in PyTorch.
/// </summary>
public class Linear : Module
{
    /// <summary>A linear layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>, with a bias unless <paramref name="bias"/> is false.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        RequirePositive(inFeatures, nameof(inFeatures));
        RequirePositive(outFeatures, nameof(outFeatures));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = NewParameter(outFeatures, inFeatures);
        Bias = bias ? NewParameter(outFeatures) : null;
        ResetParameters();
    }

    /// <summary>Size of each input's last dimension.</summary>
    public int InFeatures { get; }

    /// <summary>Size of each output's last dimension.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight, [OutFeatures, InFeatures].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, [OutFeatures], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Draws the weight and bias again (KaimingUniform with a = √5, bias U(±1/√inFeatures)).</summary>
    public void ResetParameters() => Init.LayerDefault(Weight, Bias);

    /// <summary>x·Wᵀ + b for input [..., InFeatures].</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 0) throw InputError($"input is a scalar; expected [..., {InFeatures}]");
        int features = input.ShapeArray[^1];
        if (features != InFeatures) throw InputError($"input has {features} features, expected {InFeatures}");
        return F.Linear(input, Weight, Bias);
    }

    protected override string? Signature => $"{InFeatures}->{OutFeatures}";

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={PyRepr.Bool(Bias is not null)}";
}
