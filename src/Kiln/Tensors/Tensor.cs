using System.Runtime.CompilerServices;

namespace Kiln;

/// <summary>
/// An n-dimensional array with define-by-run autograd. Data lives in pooled native memory shared by
/// views (shape, strides and offset over one <see cref="Storage"/>). Dispose it, or create it inside
/// an <see cref="Engine.Scope"/>, to give its memory back at once; the garbage collector is a backstop.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private Storage? _storage;
    internal readonly int[] ShapeArray;
    // Not readonly only for ReplaceData (Module.To changes a parameter's dtype in place).
    internal int[] StridesArray;
    internal int OffsetElements;
    private bool _requiresGrad;

    internal TensorScope? Scope;
    internal GradNode? GradFn;
    internal List<Func<Tensor, Tensor?>>? LeafHooks;

    /// <summary>True for a tensor made by a view op (it shares memory with the op's input).</summary>
    internal bool IsView;

    internal Tensor(Storage storage, int[] shape, int[] strides, int offset, DType dtype)
        : this(storage, shape, strides, offset, dtype, checked((int)Shape.Wrap(shape).NumElements))
    {
    }

    private Tensor(Storage storage, int[] shape, int[] strides, int offset, DType dtype, int numElements)
    {
        _storage = storage;
        ShapeArray = shape;
        StridesArray = strides;
        OffsetElements = offset;
        DType = dtype;
        NumElements = numElements;
        TensorScope.Track(this);
    }

    /// <summary>A new contiguous tensor with uninitialized memory.</summary>
    internal static Tensor Empty(ReadOnlySpan<int> shape, DType dtype) => Allocate(Shape.Wrap(shape.ToArray()), dtype);

    /// <summary>
    /// A new contiguous tensor with uninitialized memory that keeps <paramref name="shape"/>'s dimension
    /// array instead of copying it (shapes never change). <paramref name="contiguousStrides"/>, when
    /// given, must hold exactly <see cref="Shape.ContiguousStrides"/> of the shape; it is kept too.
    /// </summary>
    internal static Tensor Allocate(Shape shape, DType dtype, int[]? contiguousStrides = null)
    {
        var dims = shape.Dims;
        long n = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new KilnShapeException($"shape {Shape.Format(dims)} has a negative dimension");
            n *= d;
        }
        if (n > int.MaxValue) throw new KilnShapeException($"shape {Shape.Format(dims)} has {n} elements; Kiln tensors hold at most {int.MaxValue}");
        var storage = Storage.Allocate(Math.Max(n, 1) * dtype.ElementSize());
        return new Tensor(storage, dims, contiguousStrides ?? Shape.SharedContiguousStrides(dims), 0, dtype, (int)n);
    }

    /// <summary>A new contiguous tensor filled with zeros.</summary>
    internal static Tensor EmptyZeroed(ReadOnlySpan<int> shape, DType dtype)
    {
        var t = Empty(shape, dtype);
        t.RawBytes().Clear();
        return t;
    }

    /// <summary>A view over the same storage with another shape, strides and offset.</summary>
    internal Tensor AsStrided(int[] shape, int[] strides, int offset)
    {
        var storage = LiveStorage;
        storage.AddRef();
        return new Tensor(storage, shape, strides, offset, DType);
    }

    internal Storage LiveStorage => _storage ?? throw new ObjectDisposedException(nameof(Tensor), $"tensor {Shape} {DType.Name()} was disposed");

    /// <summary>The element type.</summary>
    public DType DType { get; private set; }

    /// <summary>The size of each dimension.</summary>
    public Shape Shape => Shape.Wrap(ShapeArray);

    /// <summary>Number of dimensions.</summary>
    public int Rank => ShapeArray.Length;

    /// <summary>Number of elements.</summary>
    public int NumElements { get; }

    /// <summary>Elements to step over to move one along each dimension.</summary>
    public int[] Strides => StridesArray.AsSpan().ToArray();

    /// <summary>Index of the first element in the underlying storage.</summary>
    public int StorageOffset => OffsetElements;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => ShapeArray[Shape.NormalizeDim(dim, Rank)];

    /// <summary>True when elements are laid out densely in row-major order.</summary>
    public bool IsContiguous
    {
        get
        {
            // As in PyTorch, a tensor without elements is contiguous whatever its strides ([3, 0] has strides [1, 1]).
            if (NumElements == 0) return true;
            int expected = 1;
            for (int i = ShapeArray.Length - 1; i >= 0; i--)
            {
                if (ShapeArray[i] == 1) continue;
                if (StridesArray[i] != expected) return false;
                expected *= ShapeArray[i];
            }
            return true;
        }
    }

    /// <summary>True once <see cref="Dispose"/> ran or the tensor's scope ended.</summary>
    public bool IsDisposed => _storage is null;

    /// <summary>Bumped by each in-place change of this tensor's memory (shared with its views).</summary>
    public int Version => LiveStorage.Version;

    /// <summary>
    /// Makes this leaf hold <paramref name="source"/>'s data (same shape, any dtype and strides) while
    /// keeping its identity, so references held elsewhere (an optimizer's parameter list) see the new
    /// data. The version moves past the old one, so a graph that saved the old data notices the change.
    /// </summary>
    internal void ReplaceData(Tensor source)
    {
        if (!IsLeaf) throw new KilnAutogradException($"only leaf tensors can have their data replaced; this tensor was made by {GradFn!.Name}");
        if (source.Shape != Shape)
            throw new KilnShapeException($"cannot replace the data of a tensor of shape {Shape} with data of shape {source.Shape}");
        int version = Version;
        var storage = source.LiveStorage;
        storage.AddRef();
        storage.Version = Math.Max(storage.Version, version + 1);
        var old = Interlocked.Exchange(ref _storage, storage);
        old?.Release();
        StridesArray = source.StridesArray;
        OffsetElements = source.OffsetElements;
        DType = source.DType;
        if (!DType.IsFloatingPoint()) _requiresGrad = false;
    }

    /// <summary>
    /// Points this tensor at <paramref name="source"/>'s memory, starting at element <paramref name="offset"/>,
    /// keeping its shape, strides and dtype. A compiled graph keeps one view object per view of a
    /// per-call tensor (an input, a returned result) and re-aims it at each call instead of making a new view.
    /// </summary>
    internal void RebindView(Tensor source, int offset)
    {
        var storage = source.LiveStorage;
        if (!ReferenceEquals(storage, _storage))
        {
            storage.AddRef();
            Interlocked.Exchange(ref _storage, storage)?.Release();
        }
        OffsetElements = offset;
    }

    internal bool SharesStorageWith(Tensor other) => ReferenceEquals(_storage, other._storage);

    // ---- autograd state ----

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value)
                throw new KilnAutogradException($"RequiresGrad can only be turned off on leaf tensors; this tensor was made by {GradFn!.Name}. Use Detach() instead");
            if (value && !DType.IsFloatingPoint())
                throw new KilnAutogradException($"only floating-point tensors can require gradients, not {DType.Name()}");
            _requiresGrad = value;
        }
    }

    internal void SetRequiresGradUnchecked(bool value) => _requiresGrad = value;

    /// <summary>The accumulated gradient (leaves, and non-leaves after <see cref="RetainGrad"/>).</summary>
    public Tensor? Grad { get; set; }

    /// <summary>True when no op recorded this tensor: created by the user, or made with no gradient tracking.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>The name of the backward function that made this tensor ("MulBackward"), or null for leaves.</summary>
    public string? GradFnName => GradFn?.Name;

    /// <summary>Keeps the gradient of this non-leaf tensor in <see cref="Grad"/> during backward.</summary>
    public Tensor RetainGrad()
    {
        if (!RequiresGrad) throw new KilnAutogradException("RetainGrad() on a tensor that does not require grad");
        if (GradFn is not null) GradFn.RetainedOutput = this;
        return this;
    }

    /// <summary>
    /// Calls <paramref name="hook"/> with this tensor's gradient during backward; a non-null result
    /// replaces the gradient. Returns a handle whose Dispose removes the hook.
    /// </summary>
    public IDisposable RegisterHook(Func<Tensor, Tensor?> hook)
    {
        if (!RequiresGrad) throw new KilnAutogradException("cannot register a hook on a tensor that does not require grad");
        List<Func<Tensor, Tensor?>> list;
        if (GradFn is null) list = LeafHooks ??= new();
        else list = GradFn.Hooks ??= new();
        list.Add(hook);
        return new HookHandle(list, hook);
    }

    private sealed class HookHandle(List<Func<Tensor, Tensor?>> list, Func<Tensor, Tensor?> hook) : IDisposable
    {
        public void Dispose() => list.Remove(hook);
    }

    /// <summary>A view of the same data that autograd does not track.</summary>
    public Tensor Detach() => AsStrided(ShapeArray, StridesArray, OffsetElements);

    // ---- scopes and disposal ----

    /// <summary>Moves this tensor from its scope to the enclosing scope (or to none), so it outlives the current one.</summary>
    public Tensor MoveToOuterScope()
    {
        var s = Scope;
        if (s is null) return this;
        var outer = s.Outer;
        Scope = null;
        outer?.Adopt(this);
        return this;
    }

    /// <summary>Takes this tensor out of every scope: only <see cref="Dispose"/> or the garbage collector frees it.</summary>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>Releases this tensor's hold on its memory. Views keep the memory alive until they go too.</summary>
    public void Dispose()
    {
        var s = Interlocked.Exchange(ref _storage, null);
        s?.Release();
        Scope = null;
    }

    // ---- raw access for kernels ----

    internal unsafe void* DataPointer => (byte*)LiveStorage.Pointer + (nint)OffsetElements * DType.ElementSize();

    internal unsafe T* Pointer<T>() where T : unmanaged
    {
        CheckType<T>();
        return (T*)DataPointer;
    }

    /// <summary>The elements of a contiguous tensor.</summary>
    internal unsafe Span<T> Span<T>() where T : unmanaged
    {
        CheckType<T>();
        if (!IsContiguous) throw new InvalidOperationException("Span<T>() needs a contiguous tensor");
        return new Span<T>(DataPointer, NumElements);
    }

    internal unsafe Span<byte> RawBytes()
    {
        if (!IsContiguous) throw new InvalidOperationException("RawBytes() needs a contiguous tensor");
        return new Span<byte>(DataPointer, NumElements * DType.ElementSize());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckType<T>() where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != DType.ElementSize() || DTypeInfo.Of<T>() != DType)
            throw new InvalidOperationException($"tensor is {DType.Name()}, not {typeof(T).Name}");
    }

    internal void BumpVersion() => Interlocked.Increment(ref LiveStorage.Version);
}
