using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Softmax and log-softmax along one dimension, each row in one fused kernel: the maximum, the sum of
/// exp(x - max), and the normalization, vectorized with TensorPrimitives. Rows along the innermost
/// contiguous dimension are processed one at a time; rows along an outer dimension (softmax over the
/// channels of [N, C, H, W]) are processed a block of neighbouring columns at a time, so every step is
/// still a contiguous span operation; any other layout is gathered a row at a time.
/// </summary>
internal static unsafe class SoftmaxKernel
{
    /// <summary>Columns processed together when the rows run along an outer dimension.</summary>
    internal const int Columns = 256;

    /// <summary>Longest row kept on the stack; longer rows use pooled arrays.</summary>
    private const int StackRow = 1024;

    /// <summary>
    /// y = softmax(x) (or log-softmax with <paramref name="log"/>) along <paramref name="dim"/>; x and y have
    /// <paramref name="shape"/> with their own strides (a 0-d tensor is a row of one).
    /// </summary>
    internal static void Forward<T>(ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides, ReadOnlySpan<int> yStrides, int dim, T* x, T* y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var d in shape)
            if (d == 0) return;
        if (shape.Length == 0)
        {
            *y = log ? T.Zero : T.One;
            return;
        }
        int n = shape[dim], sx = xStrides[dim], sy = yStrides[dim];
        var outer = Coalesce(shape[..dim], xStrides[..dim], yStrides[..dim]);
        var inner = Coalesce(shape[(dim + 1)..], xStrides[(dim + 1)..], yStrides[(dim + 1)..]);
        // Rows along a contiguous dimension are read in place; rows along an outer dimension go a block of
        // columns at a time (the choice depends only on the layout's structure, not on its stride values).
        if (inner.Count == 1 && sx != 1)
        {
            ColumnBlocks(outer, inner[0], n, sx, sy, x, y, log);
            return;
        }
        outer.AddRange(inner);
        Rows(outer, n, sx, sy, x, y, log);
    }

    private readonly record struct Dim(int Size, int X, int Y);

    /// <summary>Dimensions without the size-1 ones, neighbours merged where both tensors step evenly across them.</summary>
    private static List<Dim> Coalesce(ReadOnlySpan<int> shape, ReadOnlySpan<int> xs, ReadOnlySpan<int> ys)
    {
        var dims = new List<Dim>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (dims.Count > 0)
            {
                var prev = dims[^1];
                if (prev.X == (long)xs[i] * shape[i] && prev.Y == (long)ys[i] * shape[i])
                {
                    dims[^1] = new Dim(prev.Size * shape[i], xs[i], ys[i]);
                    continue;
                }
            }
            dims.Add(new Dim(shape[i], xs[i], ys[i]));
        }
        return dims;
    }

    private static (int X, int Y) Offsets(int index, List<Dim> dims)
    {
        int ox = 0, oy = 0;
        for (int d = dims.Count - 1; d >= 0 && index > 0; d--)
        {
            var dim = dims[d];
            int i = index % dim.Size;
            ox += i * dim.X;
            oy += i * dim.Y;
            index /= dim.Size;
        }
        return (ox, oy);
    }

    private static int Count(List<Dim> dims)
    {
        int count = 1;
        foreach (var d in dims) count *= d.Size;
        return count;
    }

    /// <summary>One row at a time, read in place when contiguous, else gathered; written in place when contiguous, else scattered.</summary>
    private static void Rows<T>(List<Dim> others, int n, int sx, int sy, T* x, T* y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[]? rented = n > StackRow ? ArrayPool<T>.Shared.Rent(2 * n) : null;
        try
        {
            Span<T> buffers = rented is null ? stackalloc T[2 * StackRow] : rented.AsSpan();
            var xRow = buffers[..n];
            var yRow = buffers.Slice(n, n);
            Span<T> scratch = stackalloc T[Columns];
            int rows = Count(others);
            for (int r = 0; r < rows; r++)
            {
                var (ox, oy) = Offsets(r, others);
                T* px = x + ox;
                T* py = y + oy;
                scoped ReadOnlySpan<T> input;
                if (sx == 1) input = new ReadOnlySpan<T>(px, n);
                else
                {
                    for (int i = 0; i < n; i++) xRow[i] = px[(nint)i * sx];
                    input = xRow;
                }
                var output = sy == 1 ? new Span<T>(py, n) : yRow;
                Row(input, output, log, scratch);
                if (sy != 1)
                    for (int i = 0; i < n; i++) py[(nint)i * sy] = yRow[i];
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Softmax (or log-softmax) of one contiguous row; <paramref name="y"/> must not overlap <paramref name="x"/>.</summary>
    internal static void Row<T>(ReadOnlySpan<T> x, Span<T> y, bool log, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (!log)
        {
            TensorPrimitives.Exp<T>(y, y);
            TensorPrimitives.Divide(y, TensorPrimitives.Sum<T>(y), y);
            return;
        }
        // log-softmax keeps x - max (exact for values near the maximum) and subtracts log(sum) last.
        T sum = T.Zero;
        for (int start = 0; start < y.Length; start += scratch.Length)
        {
            int len = Math.Min(scratch.Length, y.Length - start);
            TensorPrimitives.Exp<T>(y.Slice(start, len), scratch[..len]);
            sum += TensorPrimitives.Sum<T>(scratch[..len]);
        }
        TensorPrimitives.Subtract(y, T.Log(sum), y);
    }

    /// <summary>
    /// Rows along an outer dimension: for each block of up to <see cref="Columns"/> neighbouring columns,
    /// the column-wise maximum, sum and normalization run as span operations over the n rows of the
    /// block. Columns that are not contiguous are gathered into (and scattered from) the block buffers.
    /// </summary>
    private static void ColumnBlocks<T>(List<Dim> outer, Dim columns, int n, int sx, int sy, T* x, T* y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> maxBuffer = stackalloc T[Columns];
        Span<T> sumBuffer = stackalloc T[Columns];
        Span<T> xBuffer = stackalloc T[Columns];
        Span<T> yBuffer = stackalloc T[Columns];
        int count = Count(outer), cx = columns.X, cy = columns.Y;
        for (int o = 0; o < count; o++)
        {
            var (ox, oy) = Offsets(o, outer);
            for (int c = 0; c < columns.Size; c += Columns)
            {
                int len = Math.Min(Columns, columns.Size - c);
                T* bx = x + ox + (nint)c * cx;
                T* by = y + oy + (nint)c * cy;
                var max = maxBuffer[..len];
                var sum = sumBuffer[..len];
                Load(bx, cx, xBuffer[..len]).CopyTo(max);
                for (int k = 1; k < n; k++)
                    TensorPrimitives.Max(max, Load(bx + (nint)k * sx, cx, xBuffer[..len]), max);
                sum.Clear();
                for (int k = 0; k < n; k++)
                {
                    T* yk = by + (nint)k * sy;
                    var row = cy == 1 ? new Span<T>(yk, len) : yBuffer[..len];
                    TensorPrimitives.Subtract(Load(bx + (nint)k * sx, cx, xBuffer[..len]), max, row);
                    if (log)
                    {
                        TensorPrimitives.Exp<T>(row, xBuffer[..len]);
                        TensorPrimitives.Add(sum, xBuffer[..len], sum);
                    }
                    else
                    {
                        TensorPrimitives.Exp<T>(row, row);
                        TensorPrimitives.Add(sum, row, sum);
                    }
                    if (cy != 1) Store(row, yk, cy);
                }
                if (log) TensorPrimitives.Log<T>(sum, sum);
                for (int k = 0; k < n; k++)
                {
                    T* yk = by + (nint)k * sy;
                    var row = cy == 1 ? new Span<T>(yk, len) : Load(yk, cy, yBuffer[..len]);
                    if (log) TensorPrimitives.Subtract(row, sum, row);
                    else TensorPrimitives.Divide(row, sum, row);
                    if (cy != 1) Store(row, yk, cy);
                }
            }
        }
    }

    /// <summary>The <paramref name="buffer"/>.Length elements at p with <paramref name="stride"/>: in place when contiguous, else copied into the buffer.</summary>
    private static Span<T> Load<T>(T* p, int stride, Span<T> buffer) where T : unmanaged
    {
        if (stride == 1) return new Span<T>(p, buffer.Length);
        for (int i = 0; i < buffer.Length; i++) buffer[i] = p[(nint)i * stride];
        return buffer;
    }

    private static void Store<T>(ReadOnlySpan<T> values, T* p, int stride) where T : unmanaged
    {
        for (int i = 0; i < values.Length; i++) p[(nint)i * stride] = values[i];
    }
}
