using Kiln.Kernels.Cpu;

namespace Kiln.Data;

/// <summary>
/// Converts a uint8 image to float32 channels-first in [0, 1] (torchvision's <c>ToTensor</c>): each byte
/// divided by 255, [H, W, C] (or [H, W]) rearranged to [C, H, W]. Images already channels-first are read
/// with <see cref="ImageLayout.Chw"/>. A batch (rank 4: [N, H, W, C], or [N, C, H, W] with
/// <see cref="ImageLayout.Chw"/>) is converted as a whole to [N, C, H, W], the same values as converting
/// each image: this lets a loader gather uint8 batches (a quarter of float32's memory, as torchvision's
/// <c>dataset.data</c> keeps them) and convert each batch in the training loop.
/// </summary>
/// <example>
/// <code>
/// var loader = new DataLoader(new TensorDataset(data.TrainPixels, data.TrainLabels), batchSize: 64, shuffle: true);
/// var toFloat = new ToTensor(ImageLayout.Chw);
/// foreach (var (pixels, labels) in loader)
/// {
///     using var scope = Engine.Scope();
///     var loss = F.CrossEntropy(model.Call(toFloat.Apply(pixels)), labels);
///     ...
/// }
/// </code>
/// </example>
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
            (4, ImageLayout.Hwc) => input.Permute(0, 3, 1, 2),
            (4, ImageLayout.Chw) => input,
            _ => throw new KilnShapeException(
                $"ToTensor: expects an image of shape [H, W]{(Layout == ImageLayout.Hwc ? ", [H, W, C] or a batch [N, H, W, C]" : ", [C, H, W] or a batch [N, C, H, W]")}, got {input.Shape}"),
        };
        try
        {
            // While a trace captures ops, the conversion must be ops too, so the graph records it.
            if (chw.IsContiguous && Kiln.Ops.TraceRecorder.Current is null) return Convert(chw);
            using var floats = chw.To(DType.Float32);
            return floats / 255.0;
        }
        finally
        {
            if (!ReferenceEquals(chw, input)) chw.Dispose();
        }
    }

    /// <summary>A contiguous image or batch in one pass (<see cref="ByteToUnitFloatKernel"/>): the same bits as converting, then dividing.</summary>
    private static unsafe Tensor Convert(Tensor bytes)
    {
        var result = Tensor.Empty(bytes.ShapeArray, DType.Float32);
        ByteToUnitFloatKernel.Convert(bytes.Pointer<byte>(), result.Pointer<float>(), bytes.NumElements);
        return result;
    }
}
