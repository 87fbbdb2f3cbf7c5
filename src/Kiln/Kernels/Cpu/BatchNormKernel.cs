using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Batch normalization over [N, C, inner] (inner = H·W, or 1 for [N, C]), read in place with no
/// permuted copy. Per-channel statistics take two passes over the channel (mean, then the mean of
/// squared deviations), each a run of N contiguous blocks, so the second pass finds the channel in
/// cache; block results are added in double, in block order. Channel reductions are spread over the
/// pool by channel and elementwise passes by (image, channel) plane, so every value is computed the
/// same way whatever the thread count. With inner = 1 the channels are the contiguous dimension and
/// the loops run across channels instead, a range of channels per participant.
/// </summary>
internal static unsafe class BatchNormKernel
{
    /// <summary>The layout [N, C, inner] of a batch-norm input.</summary>
    internal readonly record struct Geometry(int Batch, int Channels, int Inner)
    {
        /// <summary>Values per channel.</summary>
        internal long Count => (long)Batch * Inner;

        internal nint Plane(int n, int c) => ((nint)n * Channels + c) * Inner;
    }

    /// <summary>mean[c] and the biased variance var[c] of each channel.</summary>
    internal static void Stats<T>(in Geometry g, T* x, T* mean, T* variance, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new ChannelJob<T>(g, x, null, mean, variance, gradSums: false);
        RunChannels(g, pool, ref job);
    }

    /// <summary>
    /// sumG[c] = Σ g and sumGX[c] = Σ g·(x − mean[c]) over channel c: the sums a batch-norm backward needs.
    /// </summary>
    internal static void GradSums<T>(in Geometry geometry, T* g, T* x, T* mean, T* sumG, T* sumGX, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Σ g·(x − mean) needs mean first: it is copied into sumGX, which the job reads then overwrites per channel.
        new ReadOnlySpan<T>(mean, geometry.Channels).CopyTo(new Span<T>(sumGX, geometry.Channels));
        var job = new ChannelJob<T>(geometry, x, g, sumG, sumGX, gradSums: true);
        RunChannels(geometry, pool, ref job);
    }

    /// <summary>
    /// y = a[c]·u + b[c]·(v − m[c]) + k[c] elementwise over [N, C, inner]; <paramref name="u"/> may be null
    /// (then a is not read). The normalization is (u null, v = x, b = weight/σ, k = bias) and the input
    /// gradient (u = g, v = x).
    /// </summary>
    internal static void Affine<T>(in Geometry g, T* u, T* v, T* m, T* a, T* b, T* k, T* y, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Count == 0 || g.Channels == 0) return;
        var job = new AffineJob<T>(g, u, v, m, a, b, k, y);
        if (g.Inner == 1)
        {
            int grain = Math.Max(1, ElementwiseLoop.MinShare / g.Channels);
            if (g.Batch < 2 * grain) job.Run(0, g.Batch);
            else (pool ?? WorkerPool.Shared).For(g.Batch, grain, ref job);
            return;
        }
        int planes = g.Batch * g.Channels;
        int planeGrain = Math.Max(1, ElementwiseLoop.MinShare / g.Inner);
        if (planes < 2 * planeGrain) job.Run(0, planes);
        else (pool ?? WorkerPool.Shared).For(planes, planeGrain, ref job);
    }

    /// <summary>Channels over the pool (at least a few tens of thousands of values per participant).</summary>
    private static void RunChannels<TJob>(in Geometry g, WorkerPool? pool, ref TJob job) where TJob : unmanaged, IWorkerJob
    {
        if (g.Channels == 0) return;
        int items = g.Inner == 1 ? (g.Channels + ColumnBlock - 1) / ColumnBlock : g.Channels;
        long perItem = g.Inner == 1 ? (long)g.Batch * Math.Min(ColumnBlock, g.Channels) : g.Count;
        int grain = (int)Math.Clamp(ElementwiseLoop.MinShare / Math.Max(perItem, 1), 1, int.MaxValue);
        if (items < 2 * grain) job.Run(0, items);
        else (pool ?? WorkerPool.Shared).For(items, grain, ref job);
    }

    /// <summary>Channels a participant takes at once when channels are the contiguous dimension.</summary>
    private const int ColumnBlock = 64;

    /// <summary>Statistics (x, −, mean, variance) or gradient sums (x, g, ΣG, ΣG·(x − mean) with mean preloaded in the last).</summary>
    private readonly struct ChannelJob<T>(Geometry geometry, T* x, T* g, T* first, T* second, bool gradSums) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            if (geometry.Inner == 1)
            {
                for (int block = start; block < end; block++)
                {
                    int from = block * ColumnBlock, to = Math.Min(geometry.Channels, from + ColumnBlock);
                    if (gradSums) ColumnGradSums(geometry, g, x, first, second, from, to);
                    else ColumnStats(geometry, x, first, second, from, to);
                }
                return;
            }
            for (int c = start; c < end; c++)
            {
                if (gradSums) PlaneGradSums(geometry, g, x, c, first, second);
                else PlaneStats(geometry, x, c, first, second);
            }
        }
    }

    private static void PlaneStats<T>(in Geometry g, T* x, int c, T* mean, T* variance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int n = 0; n < g.Batch; n++)
            sum += double.CreateTruncating(ReduceKernel.Sum(new ReadOnlySpan<T>(x + g.Plane(n, c), g.Inner)));
        T m = T.CreateTruncating(sum / g.Count);
        double squares = 0;
        for (int n = 0; n < g.Batch; n++)
            squares += double.CreateTruncating(SumOfSquaredDeviations(new ReadOnlySpan<T>(x + g.Plane(n, c), g.Inner), m));
        mean[c] = m;
        variance[c] = T.CreateTruncating(squares / g.Count);
    }

    private static void PlaneGradSums<T>(in Geometry g, T* grad, T* x, int c, T* sumG, T* sumGX) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T m = sumGX[c];
        double sg = 0, sgx = 0;
        for (int n = 0; n < g.Batch; n++)
        {
            nint at = g.Plane(n, c);
            var gs = new ReadOnlySpan<T>(grad + at, g.Inner);
            sg += double.CreateTruncating(ReduceKernel.Sum(gs));
            sgx += double.CreateTruncating(DotWithDeviations(gs, new ReadOnlySpan<T>(x + at, g.Inner), m));
        }
        sumG[c] = T.CreateTruncating(sg);
        sumGX[c] = T.CreateTruncating(sgx);
    }

    // Channels [from, to) of a [N, C] input: rows are added across the channel range, row by row.
    private static void ColumnStats<T>(in Geometry g, T* x, T* mean, T* variance, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int len = to - from;
        var m = new Span<T>(mean + from, len);
        var v = new Span<T>(variance + from, len);
        m.Clear();
        v.Clear();
        T count = T.CreateTruncating(g.Count);
        for (int n = 0; n < g.Batch; n++) TensorPrimitives.Add(m, new ReadOnlySpan<T>(x + g.Plane(n, from), len), m);
        TensorPrimitives.Divide(m, count, m);
        for (int n = 0; n < g.Batch; n++)
        {
            T* row = x + g.Plane(n, from);
            for (int i = 0; i < len; i++)
            {
                T d = row[i] - m[i];
                v[i] += d * d;
            }
        }
        TensorPrimitives.Divide(v, count, v);
    }

    private static void ColumnGradSums<T>(in Geometry g, T* grad, T* x, T* sumG, T* sumGX, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int len = to - from;
        var sg = new Span<T>(sumG + from, len);
        var sgx = new Span<T>(sumGX + from, len);
        Span<T> m = stackalloc T[ColumnBlock];
        m = m[..len];
        sgx.CopyTo(m);
        sg.Clear();
        sgx.Clear();
        for (int n = 0; n < g.Batch; n++)
        {
            T* gr = grad + g.Plane(n, from);
            T* xr = x + g.Plane(n, from);
            for (int i = 0; i < len; i++)
            {
                sg[i] += gr[i];
                sgx[i] += gr[i] * (xr[i] - m[i]);
            }
        }
    }

    private readonly struct AffineJob<T>(Geometry geometry, T* u, T* v, T* m, T* a, T* b, T* k, T* y) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            if (geometry.Inner == 1)
            {
                // Items are rows of C channels.
                int c = geometry.Channels;
                for (int n = start; n < end; n++)
                {
                    nint at = (nint)n * c;
                    for (int i = 0; i < c; i++)
                    {
                        T r = b[i] * (v[at + i] - m[i]) + k[i];
                        y[at + i] = u is null ? r : a[i] * u[at + i] + r;
                    }
                }
                return;
            }
            // Items are (image, channel) planes.
            for (int p = start; p < end; p++)
            {
                int c = p % geometry.Channels;
                nint at = (nint)p * geometry.Inner;
                AffinePlane(u is null ? default : new ReadOnlySpan<T>(u + at, geometry.Inner), new ReadOnlySpan<T>(v + at, geometry.Inner),
                    m[c], u is null ? T.Zero : a[c], b[c], k[c], new Span<T>(y + at, geometry.Inner));
            }
        }
    }

    /// <summary>y[i] = a·u[i] + b·(v[i] − m) + k (u empty: no first term).</summary>
    private static void AffinePlane<T>(ReadOnlySpan<T> u, ReadOnlySpan<T> v, T m, T a, T b, T k, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        bool hasU = !u.IsEmpty;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vm = Vector256.Create(m);
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            var vk = Vector256.Create(k);
            ref T ur = ref MemoryMarshal.GetReference(u);
            ref T vr = ref MemoryMarshal.GetReference(v);
            ref T yr = ref MemoryMarshal.GetReference(y);
            for (; i <= y.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var r = vb * (Vector256.LoadUnsafe(ref vr, (nuint)i) - vm) + vk;
                if (hasU) r = va * Vector256.LoadUnsafe(ref ur, (nuint)i) + r;
                r.StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < y.Length; i++)
        {
            T r = b * (v[i] - m) + k;
            y[i] = hasU ? a * u[i] + r : r;
        }
    }

    /// <summary>Σ (x − m)².</summary>
    private static T SumOfSquaredDeviations<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            var vm = Vector256.Create(m);
            Vector256<T> acc0 = Vector256<T>.Zero, acc1 = Vector256<T>.Zero;
            ref T xr = ref MemoryMarshal.GetReference(x);
            int width = Vector256<T>.Count;
            for (; i <= x.Length - 2 * width; i += 2 * width)
            {
                var d0 = Vector256.LoadUnsafe(ref xr, (nuint)i) - vm;
                var d1 = Vector256.LoadUnsafe(ref xr, (nuint)(i + width)) - vm;
                acc0 += d0 * d0;
                acc1 += d1 * d1;
            }
            for (; i <= x.Length - width; i += width)
            {
                var d = Vector256.LoadUnsafe(ref xr, (nuint)i) - vm;
                acc0 += d * d;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < x.Length; i++)
        {
            T d = x[i] - m;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>Σ g·(x − m).</summary>
    private static T DotWithDeviations<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            var vm = Vector256.Create(m);
            Vector256<T> acc0 = Vector256<T>.Zero, acc1 = Vector256<T>.Zero;
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T gr = ref MemoryMarshal.GetReference(g);
            int width = Vector256<T>.Count;
            for (; i <= x.Length - 2 * width; i += 2 * width)
            {
                acc0 += Vector256.LoadUnsafe(ref gr, (nuint)i) * (Vector256.LoadUnsafe(ref xr, (nuint)i) - vm);
                acc1 += Vector256.LoadUnsafe(ref gr, (nuint)(i + width)) * (Vector256.LoadUnsafe(ref xr, (nuint)(i + width)) - vm);
            }
            for (; i <= x.Length - width; i += width)
                acc0 += Vector256.LoadUnsafe(ref gr, (nuint)i) * (Vector256.LoadUnsafe(ref xr, (nuint)i) - vm);
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < x.Length; i++) sum += g[i] * (x[i] - m);
        return sum;
    }
}
