namespace Kiln.Ops;

/// <summary>An immutable list of ints with value equality, for op attributes (axes, strides, padding).</summary>
internal sealed class IntList : IEquatable<IntList>
{
    private readonly int[] _items;

    internal IntList(params ReadOnlySpan<int> items) => _items = items.ToArray();

    internal static readonly IntList Empty = new();

    internal int Count => _items.Length;
    internal int this[int i] => _items[i];
    internal ReadOnlySpan<int> AsSpan() => _items;
    internal int[] ToArray() => (int[])_items.Clone();

    public bool Equals(IntList? other) => other is not null && _items.AsSpan().SequenceEqual(other._items);
    public override bool Equals(object? obj) => Equals(obj as IntList);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var i in _items) h.Add(i);
        return h.ToHashCode();
    }
    public override string ToString() => Shape.Format(_items);

    public static implicit operator IntList(int[] items) => new(items);
}
