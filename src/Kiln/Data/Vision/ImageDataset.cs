namespace Kiln.Data;

/// <summary>
/// A split of an image classification dataset, item by item as torchvision gives it: the image as a
/// uint8 [H, W, C] view (apply <see cref="ToTensor"/> for float32 [C, H, W] in [0, 1]) and the label as
/// an int64 scalar, each through its transform if given. It reads the tensors of the dataset object it
/// came from, so it works until that object is disposed.
/// </summary>
internal sealed class ImageDataset(Tensor images, Tensor labels, Transform? transform, Transform? targetTransform) : Dataset<Example>
{
    public override int Count => images.Size(0);

    protected override Example GetItem(int index)
    {
        Tensor hwc;
        using (var chw = images.Select(0, index)) hwc = chw.Permute(1, 2, 0);
        var image = Transform.ApplyTo(transform, hwc);
        try
        {
            return new Example(image, Transform.ApplyTo(targetTransform, labels.Select(0, index)));
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }
}
