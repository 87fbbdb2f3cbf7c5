namespace Kiln;

/// <summary>Base of Kiln's own errors.</summary>
public class KilnException : Exception
{
    public KilnException(string message) : base(message) { }
    public KilnException(string message, Exception inner) : base(message, inner) { }
}
