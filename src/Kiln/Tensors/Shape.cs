using System.Collections;
using System.Text;

namespace Kiln;

/// <summary>The immutable size of each dimension of a tensor.</summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? _dims;

    /// <summary>Creates a shape; the array is copied.</summary>
    public Shape(params ReadOnlySpan<int> dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"shape {Format(dims)} has a negative dimension");
        _dims = dims.ToArray();
    }

    private Shape(int[] dims, bool _) => _dims = dims;

    /// <summary>Wraps an array the caller promises never to change.</summary>
    internal static Shape Wrap(int[] dims) => new(dims, false);

    internal int[] Dims => _dims ?? [];

    /// <summary>Number of dimensions.</summary>
    public int Rank => Dims.Length;

    /// <summary>Number of dimensions (same as <see cref="Rank"/>).</summary>
    public int Count => Dims.Length;

    /// <summary>Size of dimension <paramref name="dim"/>; negative values count from the end.</summary>
    public int this[int dim] => Dims[NormalizeDim(dim, Rank)];

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long NumElements
    {
        get
        {
            long n = 1;
            foreach (var d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>The dimensions as a span.</summary>
    public ReadOnlySpan<int> AsSpan() => Dims;

    /// <summary>The dimensions as a new array.</summary>
    // A span copy, not Array.Clone: Clone goes through the runtime's general object copy, about 100 ns for a small array.
    public int[] ToArray() => Dims.AsSpan().ToArray();

    /// <summary>Turns a possibly negative dimension index into one in [0, rank).</summary>
    public static int NormalizeDim(int dim, int rank)
    {
        var d = dim < 0 ? dim + rank : dim;
        if ((uint)d >= (uint)Math.Max(rank, 0) && !(rank == 0 && (dim == 0 || dim == -1)))
            throw new ArgumentOutOfRangeException(nameof(dim), $"dimension {dim} is out of range for a tensor of rank {rank}");
        return rank == 0 ? 0 : d;
    }

    /// <summary>Prints as [2, 3, 4].</summary>
    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(']').ToString();
    }

    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Lets a shape be written as an array: <c>Shape s = [2, 3];</c>.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The broadcast of two shapes (NumPy rules), or null when they do not broadcast.</summary>
    internal static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da == db || db == 1) result[i] = da;
            else if (da == 1) result[i] = db;
            else return null;
        }
        return result;
    }

    /// <summary>
    /// The broadcast of two shapes (NumPy rules); false when they do not broadcast. When the result
    /// equals <paramref name="a"/> or <paramref name="b"/> (same shapes, a row added to a matrix, a
    /// scalar operand) that shape itself is returned, so the common cases allocate nothing.
    /// </summary>
    internal static bool TryBroadcast(Shape a, Shape b, out Shape result)
    {
        var da = a.Dims;
        var db = b.Dims;
        int rank = Math.Max(da.Length, db.Length);
        bool isA = da.Length == rank, isB = db.Length == rank;
        for (int i = 0; i < rank; i++)
        {
            int x = i < rank - da.Length ? 1 : da[i - (rank - da.Length)];
            int y = i < rank - db.Length ? 1 : db[i - (rank - db.Length)];
            if (x == y) continue;
            if (y == 1) isB = false;
            else if (x == 1) isA = false;
            else
            {
                result = default;
                return false;
            }
        }
        result = isA ? a : isB ? b : Wrap(Broadcast(da, db)!);
        return true;
    }

    /// <summary>Row-major strides of a contiguous tensor of these dimensions.</summary>
    internal static int[] ContiguousStrides(ReadOnlySpan<int> dims)
    {
        var strides = new int[dims.Length];
        int s = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(dims[i], 1);
        }
        return strides;
    }

    private static readonly int[] ScalarStrides = [];
    private static readonly int[] VectorStrides = [1];

    /// <summary>
    /// <see cref="ContiguousStrides"/> for a tensor's own use: the arrays of scalars and vectors are
    /// shared by every tensor (tensors never change their strides array).
    /// </summary>
    internal static int[] SharedContiguousStrides(ReadOnlySpan<int> dims) => dims.Length switch
    {
        0 => ScalarStrides,
        1 => VectorStrides,
        _ => ContiguousStrides(dims),
    };

    /// <summary>True when <paramref name="strides"/> is exactly what <see cref="ContiguousStrides"/> gives for <paramref name="dims"/>.</summary>
    internal static bool IsContiguousStrides(ReadOnlySpan<int> dims, ReadOnlySpan<int> strides)
    {
        if (strides.Length != dims.Length) return false;
        int s = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            if (strides[i] != s) return false;
            s *= Math.Max(dims[i], 1);
        }
        return true;
    }
}
