using Kiln.Ops;

namespace Kiln.Data;

/// <summary>
/// Crops a random <see cref="Size"/> x <see cref="Size"/> window from an image's last two dimensions
/// [..., H, W], after padding each side with <see cref="Padding"/> zeros (torchvision's <c>RandomCrop</c>
/// with constant zero padding). Every window position is equally likely.
/// </summary>
public sealed class RandomCrop : Transform
{
    /// <summary>A crop to <paramref name="size"/> x <paramref name="size"/> after zero-padding each side by <paramref name="padding"/>.</summary>
    public RandomCrop(int size, int padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Size = size;
        Padding = padding;
    }

    /// <summary>The side of the square crop.</summary>
    public int Size { get; }

    /// <summary>Zeros added on each of the four sides before cropping.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2) throw new KilnShapeException($"RandomCrop: expects an image of shape [..., H, W], got {input.Shape}");
        int height = input.Size(-2), width = input.Size(-1);
        int paddedHeight = height + 2 * Padding, paddedWidth = width + 2 * Padding;
        if (Size > paddedHeight || Size > paddedWidth)
            throw new KilnShapeException(
                $"RandomCrop: a {Size} x {Size} crop does not fit in the image {input.Shape} padded by {Padding} ({paddedHeight} x {paddedWidth})");
        int top = RandomInt(paddedHeight - Size + 1);
        int left = RandomInt(paddedWidth - Size + 1);

        // The window in the input's coordinates is [top - Padding, + Size) x [left - Padding, + Size);
        // what of it lies inside the input is copied, the rest stays zero.
        int rowStart = Math.Max(0, top - Padding), rowEnd = Math.Min(height, top - Padding + Size);
        int colStart = Math.Max(0, left - Padding), colEnd = Math.Min(width, left - Padding + Size);
        var shape = input.Shape.ToArray();
        shape[^2] = Size;
        shape[^1] = Size;
        var output = Tensor.Zeros(shape, input.DType);
        if (rowEnd > rowStart && colEnd > colStart)
        {
            int rows = rowEnd - rowStart, cols = colEnd - colStart;
            using var sourceRows = input.Narrow(-2, rowStart, rows);
            using var source = sourceRows.Narrow(-1, colStart, cols);
            using var destinationRows = output.Narrow(-2, rowStart - (top - Padding), rows);
            using var destination = destinationRows.Narrow(-1, colStart - (left - Padding), cols);
            Dispatcher.CopyInto(source, destination);
        }
        return output;
    }
}
