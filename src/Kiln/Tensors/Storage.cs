namespace Kiln;

/// <summary>
/// A reference-counted block of pooled native memory shared by a tensor and its views. The version
/// counter is shared too, so an in-place write through any view is seen by autograd's saved-tensor check.
/// </summary>
internal sealed unsafe class Storage
{
    private nint _pointer;
    private readonly long _capacity;
    private readonly int _sizeClass;
    private int _refCount;

    /// <summary>Bumped by every in-place write.</summary>
    internal int Version;

    internal long ByteLength { get; }

    private Storage(long bytes)
    {
        ByteLength = bytes;
        _pointer = MemoryPool.Rent(bytes, out _capacity, out _sizeClass);
        _refCount = 1;
    }

    internal static Storage Allocate(long bytes) => new(bytes);

    internal static Storage AllocateZeroed(long bytes)
    {
        var s = new Storage(bytes);
        new Span<byte>((void*)s._pointer, checked((int)Math.Min(bytes, int.MaxValue))).Clear();
        if (bytes > int.MaxValue) System.Runtime.InteropServices.NativeMemory.Clear((void*)s._pointer, (nuint)bytes);
        return s;
    }

    internal bool IsAlive => Volatile.Read(ref _refCount) > 0;

    internal nint Pointer
    {
        get
        {
            var p = _pointer;
            if (p == 0) throw new ObjectDisposedException("Tensor", "the tensor's memory was released (disposed or its scope ended)");
            return p;
        }
    }

    internal void AddRef()
    {
        if (Interlocked.Increment(ref _refCount) <= 1)
            throw new ObjectDisposedException("Tensor", "cannot view a tensor whose memory was released");
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _refCount) == 0)
        {
            var p = Interlocked.Exchange(ref _pointer, 0);
            if (p != 0) MemoryPool.Return(p, _capacity, _sizeClass);
            GC.SuppressFinalize(this);
        }
    }

    // Backstop for tensors that were never disposed: the memory goes back to the pool when the last view is collected.
    ~Storage()
    {
        var p = Interlocked.Exchange(ref _pointer, 0);
        if (p != 0) MemoryPool.Return(p, _capacity, _sizeClass);
    }
}
