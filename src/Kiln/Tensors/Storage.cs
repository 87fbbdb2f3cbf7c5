namespace Kiln;

/// <summary>
/// A reference-counted block of pooled native memory shared by a tensor and its views. The version
/// counter is shared too, so an in-place write through any view is seen by autograd's saved-tensor check.
/// </summary>
internal sealed unsafe class Storage
{
    // Released storage objects kept for reuse on the thread that released them. Creating an object
    // with a finalizer costs several times a plain allocation (it is registered with the finalizer
    // queue), more than the rest of a small op; a recycled one keeps that registration, which is
    // harmless: the finalizer only returns memory the object still holds, and a kept one holds none.
    // The limit covers a scope that ends a training step and releases its tensors all at once.
    private const int RecycleLimit = 4096;
    [ThreadStatic] private static Storage[]? _recycled;
    [ThreadStatic] private static int _recycledCount;

    private nint _pointer;
    private long _capacity;
    private int _sizeClass;
    private int _refCount;

    /// <summary>Bumped by every in-place write.</summary>
    internal int Version;

    internal long ByteLength { get; private set; }

    private Storage()
    {
    }

    internal static Storage Allocate(long bytes)
    {
        var s = TakeRecycled() ?? new Storage();
        s.ByteLength = bytes;
        s.Version = 0;
        s._pointer = MemoryPool.Rent(bytes, out s._capacity, out s._sizeClass);
        s._refCount = 1;
        return s;
    }

    internal static Storage AllocateZeroed(long bytes)
    {
        var s = Allocate(bytes);
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
            // No tensor holds this object any more (each holder had a reference counted), so it can serve the next allocation.
            var recycled = _recycled ??= new Storage[16];
            if (_recycledCount == recycled.Length && recycled.Length < RecycleLimit)
                Array.Resize(ref _recycled, recycled.Length * 2);
            if (_recycledCount < _recycled.Length) _recycled[_recycledCount++] = this;
            else GC.SuppressFinalize(this);
        }
    }

    private static Storage? TakeRecycled()
    {
        if (_recycledCount == 0) return null;
        var s = _recycled![--_recycledCount];
        _recycled[_recycledCount] = null!;
        return s;
    }

    // Backstop for tensors that were never disposed: the memory goes back to the pool when the last view is collected.
    ~Storage()
    {
        var p = Interlocked.Exchange(ref _pointer, 0);
        if (p != 0) MemoryPool.Return(p, _capacity, _sizeClass);
    }
}
