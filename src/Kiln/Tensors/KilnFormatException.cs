namespace Kiln;

/// <summary>A file or buffer is malformed: bad magic, truncated, sizes that do not match.</summary>
public sealed class KilnFormatException : KilnException
{
    public KilnFormatException(string message) : base(message) { }
}
