namespace Kiln;

/// <summary>Autograd was asked for something it cannot do (no graph, a modified saved tensor, ...).</summary>
public sealed class KilnAutogradException : KilnException
{
    public KilnAutogradException(string message) : base(message) { }
}
