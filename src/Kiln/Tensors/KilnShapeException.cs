namespace Kiln;

/// <summary>An op got inputs whose shapes or dtypes it cannot accept.</summary>
public sealed class KilnShapeException : KilnException
{
    public KilnShapeException(string message) : base(message) { }
    public KilnShapeException(string message, Exception inner) : base(message, inner) { }
}
