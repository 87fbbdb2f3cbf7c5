namespace Kiln.NN;

/// <summary>
/// Zero padding of the spatial dimensions of a convolution or pooling: an int (the same on every
/// side), a tuple <c>(height, width)</c> (each added on both sides), <see cref="Valid"/> (none) or
/// <see cref="Same"/> (the output size is the input size divided by the stride, rounded up; when the
/// total padding is odd the extra row or column goes at the bottom or right, as in PyTorch and Keras).
/// </summary>
public readonly struct Padding : IEquatable<Padding>
{
    /// <summary>Pads <paramref name="height"/> rows above and below and <paramref name="width"/> columns left and right.</summary>
    public Padding(int height, int width)
    {
        Height = height;
        Width = width;
    }

    private Padding(bool same) => IsSame = same;

    /// <summary>Rows added above and below (0 for <see cref="Same"/>, which is resolved from the kernel size).</summary>
    public int Height { get; }

    /// <summary>Columns added left and right (0 for <see cref="Same"/>).</summary>
    public int Width { get; }

    /// <summary>True for <see cref="Same"/>.</summary>
    public bool IsSame { get; }

    /// <summary>Padding that keeps the output size at ceil(input / stride).</summary>
    public static Padding Same { get; } = new(same: true);

    /// <summary>No padding.</summary>
    public static Padding Valid { get; } = new(0, 0);

    /// <summary>The same padding on every side.</summary>
    public static implicit operator Padding(int size) => new(size, size);

    /// <summary>Rows above and below, columns left and right.</summary>
    public static implicit operator Padding((int Height, int Width) size) => new(size.Height, size.Width);

    public bool Equals(Padding other) => IsSame == other.IsSame && Height == other.Height && Width == other.Width;
    public override bool Equals(object? obj) => obj is Padding p && Equals(p);
    public override int GetHashCode() => HashCode.Combine(IsSame, Height, Width);
    public static bool operator ==(Padding a, Padding b) => a.Equals(b);
    public static bool operator !=(Padding a, Padding b) => !a.Equals(b);

    /// <summary>Prints as "same", "2" or "(1, 2)".</summary>
    public override string ToString() => IsSame ? "same" : Height == Width ? $"{Height}" : $"({Height}, {Width})";
}
