namespace Kiln.Data;

/// <summary>
/// Normalizes each channel of a float [..., C, H, W] image (torchvision's <c>Normalize</c>):
/// output[c] = (input[c] - mean[c]) / std[c]. A single mean and std apply to every channel.
/// </summary>
public sealed class Normalize : Transform
{
    private readonly double[] _mean;
    private readonly double[] _std;

    /// <summary>A normalization by per-channel <paramref name="mean"/> and <paramref name="std"/> (equal lengths; every std non-zero).</summary>
    public Normalize(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: needs as many means as standard deviations, at least one; got {mean.Length} and {std.Length}");
        for (int c = 0; c < std.Length; c++)
        {
            if (std[c] == 0 || !double.IsFinite(std[c]))
                throw new ArgumentException($"Normalize: std[{c}] is {std[c]}; it must be finite and non-zero (it divides)");
            if (!double.IsFinite(mean[c])) throw new ArgumentException($"Normalize: mean[{c}] is {mean[c]}; it must be finite");
        }
        _mean = (double[])mean.Clone();
        _std = (double[])std.Clone();
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<double> Std => _std;

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.DType.IsFloatingPoint())
            throw new KilnException($"Normalize: expects a float image, got {input.DType.Name()} {input.Shape}; apply ToTensor first");
        if (input.Rank < 3)
            throw new KilnShapeException($"Normalize: expects an image of shape [..., C, H, W], got {input.Shape}");
        int channels = input.Size(-3);
        if (_mean.Length != 1 && _mean.Length != channels)
            throw new KilnShapeException($"Normalize: the image {input.Shape} has {channels} channels but {_mean.Length} means and stds were given");
        using var mean = Tensor.From<double>(_mean, _mean.Length, 1, 1);
        using var std = Tensor.From<double>(_std, _std.Length, 1, 1);
        using var meanTyped = mean.To(input.DType);
        using var stdTyped = std.To(input.DType);
        using var centered = input - meanTyped;
        return centered / stdTyped;
    }
}
