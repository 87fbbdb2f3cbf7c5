namespace Kiln.IO;

/// <summary>
/// What <see cref="Safetensors.Load"/> read: the tensors by name in the file's header order, and the
/// header's <c>__metadata__</c> strings (empty when the file has none). The tensors belong to the
/// caller and to no <see cref="Engine.Scope"/>; disposing this object disposes them all.
/// </summary>
public sealed class SafetensorsData : IDisposable
{
    internal SafetensorsData(OrderedDictionary<string, Tensor> tensors, OrderedDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name, in the order the file's header lists them.</summary>
    public OrderedDictionary<string, Tensor> Tensors { get; }

    /// <summary>The file's <c>__metadata__</c> (string to string), in header order; empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Disposes every tensor in <see cref="Tensors"/>.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
