namespace Kiln.Data;

/// <summary>
/// An input and its target: one dataset item, or a batch of items stacked along a new first dimension.
/// Deconstructs, so <c>foreach (var (x, y) in loader)</c> works. Disposing it disposes both tensors.
/// </summary>
public readonly record struct Example(Tensor Input, Tensor Target) : IDisposable
{
    /// <summary>Disposes <see cref="Input"/> and <see cref="Target"/>.</summary>
    public void Dispose()
    {
        Input?.Dispose();
        Target?.Dispose();
    }
}
