namespace Kiln.NN;

/// <summary>
/// A height and a width, as the 2-D convolution and pooling functions take them (kernel size, stride,
/// dilation, output size): write one int for both, or a tuple <c>(height, width)</c>.
/// </summary>
public readonly record struct Size2d(int Height, int Width)
{
    /// <summary>The same size for the height and the width.</summary>
    public static implicit operator Size2d(int size) => new(size, size);

    /// <summary>A height and a width.</summary>
    public static implicit operator Size2d((int Height, int Width) size) => new(size.Height, size.Width);

    /// <summary>Prints as "3" or "(3, 5)".</summary>
    public override string ToString() => Height == Width ? $"{Height}" : $"({Height}, {Width})";
}
