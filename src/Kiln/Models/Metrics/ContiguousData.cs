namespace Kiln.Models;

/// <summary>
/// A tensor's elements as one contiguous block of one dtype, so a metric reads a batch in a single pass:
/// the tensor itself when it already is that, else a converted copy made without autograd, which
/// <see cref="Dispose"/> frees at once. The default value stands for an absent tensor and reads as empty.
/// </summary>
internal readonly struct ContiguousData : IDisposable
{
    private readonly Tensor? _tensor;
    private readonly bool _owned;

    private ContiguousData(Tensor tensor, bool owned)
    {
        _tensor = tensor;
        _owned = owned;
    }

    /// <summary>The elements of <paramref name="tensor"/> as <paramref name="dtype"/>, contiguous.</summary>
    internal static ContiguousData Of(Tensor tensor, DType dtype)
    {
        if (tensor.DType == dtype && tensor.IsContiguous) return new(tensor, owned: false);
        using (Engine.NoGrad())
        {
            var converted = tensor.To(dtype);
            if (converted.IsContiguous) return new(converted, owned: !ReferenceEquals(converted, tensor));
            var copy = converted.Clone();
            if (!ReferenceEquals(converted, tensor)) converted.Dispose();
            return new(copy, owned: true);
        }
    }

    /// <summary>The elements, in row-major order (empty for an absent tensor).</summary>
    internal ReadOnlySpan<T> Span<T>() where T : unmanaged => _tensor is null ? default : _tensor.Span<T>();

    public void Dispose()
    {
        if (_owned) _tensor!.Dispose();
    }
}
