namespace Kiln.NN;

/// <summary>Average pooling to a fixed output size whatever the input size (PyTorch's <c>nn.AdaptiveAvgPool2d</c>).</summary>
public class AdaptiveAvgPool2d : Module
{
    /// <summary>Pools [N, C, H, W] (or [C, H, W]) input to [N, C, outputSize.Height, outputSize.Width].</summary>
    public AdaptiveAvgPool2d(Size2d outputSize)
    {
        RequirePositive(outputSize, nameof(outputSize));
        OutputSize = outputSize;
    }

    /// <summary>Height and width of the output.</summary>
    public Size2d OutputSize { get; }

    /// <summary>The mean of each of the output's regions of the input.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw InputError($"input must be [N, C, H, W] or [C, H, W], got {input.Shape}");
        return F.AdaptiveAvgPool2d(input, OutputSize);
    }

    protected override string ExtraRepr() => $"output_size={OutputSize}";
}
