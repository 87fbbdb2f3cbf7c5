namespace Kiln.Data;

/// <summary>
/// Converts a uint8 image to float32 channels-first in [0, 1] (torchvision's <c>ToTensor</c>): each byte
/// divided by 255, [H, W, C] (or [H, W]) rearranged to [C, H, W]. Images already channels-first are read
/// with <see cref="ImageLayout.Chw"/>.
/// </summary>
public sealed class ToTensor(ImageLayout layout = ImageLayout.Hwc) : Transform
{
    /// <summary>How input images are laid out.</summary>
    public ImageLayout Layout { get; } = layout;

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.DType != DType.UInt8)
            throw new KilnException($"ToTensor: expects a uint8 image, got {input.DType.Name()} {input.Shape}; it converts bytes 0..255 to floats in [0, 1]");
        Tensor chw = (input.Rank, Layout) switch
        {
            (2, _) => input.Unsqueeze(0),
            (3, ImageLayout.Hwc) => input.Permute(2, 0, 1),
            (3, ImageLayout.Chw) => input,
            _ => throw new KilnShapeException(
                $"ToTensor: expects an image of shape [H, W]{(Layout == ImageLayout.Hwc ? ", [H, W, C]" : ", [C, H, W]")}, got {input.Shape}"),
        };
        try
        {
            using var floats = chw.To(DType.Float32);
            return floats / 255.0;
        }
        finally
        {
            if (!ReferenceEquals(chw, input)) chw.Dispose();
        }
    }
}
