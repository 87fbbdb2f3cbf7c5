namespace Kiln.Ops;

/// <summary>
/// A kernel's view of an input as a dense row-major tensor: the input itself when it is contiguous,
/// else a contiguous copy made outside autograd and disposed with this value. Use with <c>using</c>.
/// </summary>
internal readonly ref struct ContiguousInput
{
    private readonly bool _owned;

    internal ContiguousInput(Tensor source)
    {
        if (source.IsContiguous)
        {
            Tensor = source;
            return;
        }
        Tensor = Tensor.Empty(source.ShapeArray, source.DType);
        Dispatcher.CopyInto(source, Tensor);
        _owned = true;
    }

    internal Tensor Tensor { get; }

    internal unsafe T* Pointer<T>() where T : unmanaged => Tensor.Pointer<T>();

    public void Dispose()
    {
        if (_owned) Tensor.Dispose();
    }
}
