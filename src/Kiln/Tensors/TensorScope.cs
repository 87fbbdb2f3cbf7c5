namespace Kiln;

/// <summary>
/// Disposes every tensor created inside it when it ends, except tensors moved out of it
/// (<see cref="Tensor.MoveToOuterScope"/>, <see cref="Tensor.DetachFromScope"/>, parameters and gradients
/// of leaves). Scopes nest per thread. Create one with <see cref="Engine.Scope"/>.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    // The list of an ended scope, kept for the thread's next one: a training loop opens a scope per
    // step and tracks about as many tensors each time, so the list stops growing after the first.
    [ThreadStatic] private static List<Tensor>? _spare;
    private const int SpareCapacityLimit = 1 << 16;

    private readonly TensorScope? _outer;
    private List<Tensor>? _owned;
    private bool _disposed;

    internal TensorScope()
    {
        _outer = _current;
        _current = this;
        _owned = _spare ?? new List<Tensor>();
        _spare = null;
    }

    internal static TensorScope? Current => _current;

    /// <summary>Number of tensors this scope still owns.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            if (_owned is not null)
                foreach (var t in _owned) if (t.Scope == this) n++;
            return n;
        }
    }

    internal static void Track(Tensor t)
    {
        var s = _current;
        if (s is null) return;
        t.Scope = s;
        s._owned!.Add(t);
    }

    internal void Adopt(Tensor t)
    {
        t.Scope = this;
        (_owned ??= new List<Tensor>()).Add(t);
    }

    internal TensorScope? Outer => _outer;

    /// <summary>Keeps <paramref name="t"/> alive past this scope by giving it to the enclosing one (or to none).</summary>
    public Tensor Keep(Tensor t)
    {
        if (t.Scope == this) t.MoveToOuterScope();
        return t;
    }

    public void Dispose()
    {
        if (_disposed) return;
        // Checked before marking this scope disposed: a refused Dispose must leave it disposable later,
        // or the thread would keep it as its current scope and track every later tensor into it.
        if (_current != this)
            throw new InvalidOperationException("TensorScope disposed out of order: dispose inner scopes before outer ones, on the thread that created them");
        _disposed = true;
        _current = _outer;
        var owned = _owned!;
        _owned = null;
        foreach (var t in owned)
            if (t.Scope == this) t.Dispose();
        owned.Clear();
        if (owned.Capacity <= SpareCapacityLimit) _spare = owned;
    }
}
