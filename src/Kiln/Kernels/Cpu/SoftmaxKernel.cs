using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    internal static void Forward<T>(ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides, ReadOnlySpan<int> yStrides, int dim, T* x, T* y, bool log,
        WorkerPool? pool = null)
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
        if (sx == 1 && sy == 1 && outer.Count <= 1 && (outer.Count == 0 || (outer[0].X == n && outer[0].Y == n)))
        {
            // Dense rows one after another (the usual [N, C] along C): rows are independent, so they are
            // spread over the pool, and each is computed alike whatever the split.
            var job = new DenseRowsJob<T>(x, y, n, log);
            int rows = Count(outer);
            int grain = Math.Max(1, ElementwiseLoop.MinShare / n);
            if (rows < 2 * grain) job.Run(0, rows);
            else (pool ?? WorkerPool.Shared).For(rows, grain, ref job);
            return;
        }
        Rows(outer, n, sx, sy, x, y, log);
    }

    private readonly struct DenseRowsJob<T>(T* x, T* y, int n, bool log) : IWorkerJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
                Row(new ReadOnlySpan<T>(x + (nint)r * n, n), new Span<T>(y + (nint)r * n, n), log);
        }
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
                Row(input, output, log);
                if (sy != 1)
                    for (int i = 0; i < n; i++) py[(nint)i * sy] = yRow[i];
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Softmax (or log-softmax) of one contiguous row; <paramref name="y"/> must not overlap <paramref name="x"/>.
    /// Three passes: the maximum; exp(x − max) and its sum together (stored for softmax); the
    /// normalization (a division by the sum, or x − max − log(sum), which keeps x − max exact for values
    /// near the maximum).
    /// </summary>
    internal static void Row<T>(ReadOnlySpan<T> x, Span<T> y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(x);
        if (!log)
        {
            T sum = ExpShifted(x, max, y);
            TensorPrimitives.Divide(y, sum, y);
            return;
        }
        T logSum = T.Log(SumExpShifted(x, max));
        SubtractTwice(x, max, logSum, y);
    }

    /// <summary>y[i] = exp(x[i] − max); returns Σ y.</summary>
    internal static T ExpShifted<T>(ReadOnlySpan<T> x, T max, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            var shift = Vector256.Create(max);
            var acc = Vector256<T>.Zero;
            ref T src = ref MemoryMarshal.GetReference(x);
            ref T dst = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var e = VectorMath.ExpFast(Vector256.LoadUnsafe(ref src, (nuint)i) - shift);
                e.StoreUnsafe(ref dst, (nuint)i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            T e = T.Exp(x[i] - max);
            y[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>Σ exp(x[i] − max), nothing stored.</summary>
    internal static T SumExpShifted<T>(ReadOnlySpan<T> x, T max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            var shift = Vector256.Create(max);
            var acc = Vector256<T>.Zero;
            ref T src = ref MemoryMarshal.GetReference(x);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                acc += VectorMath.ExpFast(Vector256.LoadUnsafe(ref src, (nuint)i) - shift);
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) sum += T.Exp(x[i] - max);
        return sum;
    }

    /// <summary>y[i] = (x[i] − a) − b, in that order.</summary>
    private static void SubtractTwice<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            ref T src = ref MemoryMarshal.GetReference(x);
            ref T dst = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref src, (nuint)i) - va - vb).StoreUnsafe(ref dst, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = x[i] - a - b;
    }

    /// <summary>
    /// The input gradient from the output y and its gradient g, for contiguous tensors viewed as
    /// [outer, n, inner] with the softmax along n: dx = y·(g − Σ g·y) for softmax, dx = g − exp(y)·Σ g
    /// for log-softmax (y is then the log-probabilities). With inner = 1 each row is two passes (the sum,
    /// then dx) and rows are spread over the pool; otherwise the sums run over the n rows of length
    /// inner as span operations.
    /// </summary>
    internal static void Backward<T>(int outer, int n, int inner, T* g, T* y, T* dx, bool log, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer == 0 || n == 0 || inner == 0) return;
        if (inner == 1)
        {
            var job = new BackwardRowsJob<T>(g, y, dx, n, log);
            int grain = Math.Max(1, ElementwiseLoop.MinShare / n);
            if (outer < 2 * grain) job.Run(0, outer);
            else (pool ?? WorkerPool.Shared).For(outer, grain, ref job);
            return;
        }
        T[] rented = ArrayPool<T>.Shared.Rent(inner);
        try
        {
            var sum = rented.AsSpan(0, inner);
            for (int o = 0; o < outer; o++)
            {
                nint plane = (nint)o * n * inner;
                sum.Clear();
                for (int k = 0; k < n; k++)
                {
                    var gk = new ReadOnlySpan<T>(g + plane + (nint)k * inner, inner);
                    if (log) TensorPrimitives.Add(sum, gk, sum);
                    else TensorPrimitives.MultiplyAdd(gk, new ReadOnlySpan<T>(y + plane + (nint)k * inner, inner), sum, sum);
                }
                for (int k = 0; k < n; k++)
                {
                    nint at = plane + (nint)k * inner;
                    var gk = new ReadOnlySpan<T>(g + at, inner);
                    var yk = new ReadOnlySpan<T>(y + at, inner);
                    var dk = new Span<T>(dx + at, inner);
                    if (log)
                    {
                        TensorPrimitives.Exp(yk, dk);
                        TensorPrimitives.Multiply(dk, sum, dk);
                        TensorPrimitives.Subtract(gk, dk, dk);
                    }
                    else
                    {
                        TensorPrimitives.Subtract(gk, sum, dk);
                        TensorPrimitives.Multiply(dk, yk, dk);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    private readonly struct BackwardRowsJob<T>(T* g, T* y, T* dx, int n, bool log) : IWorkerJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                nint at = (nint)r * n;
                var gr = new ReadOnlySpan<T>(g + at, n);
                var yr = new ReadOnlySpan<T>(y + at, n);
                var d = new Span<T>(dx + at, n);
                if (log) LogRowBackward(gr, yr, TensorPrimitives.Sum(gr), d);
                else RowBackward(gr, yr, TensorPrimitives.Dot(gr, yr), d);
            }
        }
    }

    /// <summary>d[i] = y[i]·(g[i] − s).</summary>
    private static void RowBackward<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vs = Vector256.Create(s);
            ref T gr = ref MemoryMarshal.GetReference(g);
            ref T yr = ref MemoryMarshal.GetReference(y);
            ref T dr = ref MemoryMarshal.GetReference(d);
            for (; i <= d.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref yr, (nuint)i) * (Vector256.LoadUnsafe(ref gr, (nuint)i) - vs)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < d.Length; i++) d[i] = y[i] * (g[i] - s);
    }

    /// <summary>d[i] = g[i] − exp(y[i])·s.</summary>
    private static void LogRowBackward<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vs = Vector256.Create(s);
            ref T gr = ref MemoryMarshal.GetReference(g);
            ref T yr = ref MemoryMarshal.GetReference(y);
            ref T dr = ref MemoryMarshal.GetReference(d);
            for (; i <= d.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref gr, (nuint)i) - VectorMath.ExpFast(Vector256.LoadUnsafe(ref yr, (nuint)i)) * vs).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < d.Length; i++) d[i] = g[i] - T.Exp(y[i]) * s;
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
