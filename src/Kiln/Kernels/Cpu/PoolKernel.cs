using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// 2-D max and average pooling over contiguous H×W planes (one plane per batch item and channel), and
/// their gradients. The forward passes are separable: a window's rows are first combined into one
/// row of the input width with vectorized span operations, then the columns of that row are combined
/// for each output of the output row (vectorized again where the column stride is 1).
/// </summary>
internal static unsafe class PoolKernel
{
    /// <summary>
    /// One pooling window layout: output (oy, ox) covers input rows oy·StrideHeight − PadHeight +
    /// ky·DilationHeight and columns likewise, for ky &lt; KernelHeight, kx &lt; KernelWidth.
    /// </summary>
    internal readonly record struct Window(
        int Height, int Width, int OutHeight, int OutWidth,
        int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
        int PadHeight, int PadWidth, int DilationHeight, int DilationWidth)
    {
        internal int InArea => Height * Width;
        internal int OutArea => OutHeight * OutWidth;

        /// <summary>The kernel taps [Start, End) of a window starting at <paramref name="first"/> that fall inside [0, size).</summary>
        internal static (int Start, int End) Taps(int first, int kernel, int dilation, int size)
        {
            int start = first >= 0 ? 0 : (-first + dilation - 1) / dilation;
            int last = size - 1 - first;
            int end = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
            return (start, Math.Max(start, end));
        }
    }

    // ---- max ----

    /// <summary>output = the maximum of each window of each plane, planes spread over <paramref name="pool"/> (null: this thread).</summary>
    internal static void MaxForward<T>(in Window w, int planes, T* input, T* output, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new MaxJob<T>(w, backward: false, null, input, output);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    /// <summary>gradInput = 0, then each output gradient is added at its window's maximum in <paramref name="input"/>; planes spread over <paramref name="pool"/>.</summary>
    internal static void MaxBackward<T>(in Window w, int planes, T* grad, T* input, T* gradInput, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new MaxJob<T>(w, backward: true, grad, input, gradInput);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    /// <summary>Planes are independent, so any split gives the same bits; a share is at least a few thousand inputs.</summary>
    private static void RunPlanes<TJob>(in Window w, int planes, WorkerPool pool, ref TJob job) where TJob : unmanaged, IWorkerJob
        => pool.For(planes, Math.Max(1, (1 << 14) / Math.Max(1, w.InArea)), ref job);

    private readonly struct MaxJob<T>(Window w, bool backward, T* grad, T* input, T* output) : IWorkerJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            int planes = end - start;
            T* x = input + (nint)start * w.InArea;
            if (backward)
            {
                T* dy = grad + (nint)start * w.OutArea, dx = output + (nint)start * w.InArea;
                if (IsTwoByTwo(w)) MaxBackwardTwoByTwo(w, planes, dy, x, dx);
                else MaxBackwardPlanes(w, planes, dy, x, dx);
            }
            else
            {
                T* y = output + (nint)start * w.OutArea;
                if (IsTwoByTwo(w)) MaxForwardTwoByTwo(w, planes, x, y);
                else MaxForwardPlanes(w, planes, x, y);
            }
        }
    }

    /// <summary>The common 2×2 window with stride 2, no padding or dilation: every window lies inside the input.</summary>
    private static bool IsTwoByTwo(in Window w) =>
        w.KernelHeight == 2 && w.KernelWidth == 2 && w.StrideHeight == 2 && w.StrideWidth == 2 && w.PadHeight == 0 && w.PadWidth == 0
        && w.DilationHeight == 1 && w.DilationWidth == 1 && 2 * w.OutHeight <= w.Height && 2 * w.OutWidth <= w.Width;

    /// <summary>
    /// The larger of two values, NaN if either is (PyTorch's rule). Computed on vector registers: pooled
    /// maxima fall unpredictably, so a compare-and-branch would mispredict about every other window.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T MaxOrNaN<T>(T best, T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector128.IsHardwareAccelerated) return v > best || T.IsNaN(v) ? v : best;
        var b = Vector128.CreateScalarUnsafe(best);
        var x = Vector128.CreateScalarUnsafe(v);
        return Vector128.ConditionalSelect(Takes(b, x), x, b).ToScalar();
    }

    /// <summary>Lane 0 all ones where <paramref name="v"/> replaces <paramref name="best"/>: it is larger, or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Takes<T>(Vector128<T> best, Vector128<T> v) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v);

    private static void MaxForwardTwoByTwo<T>(in Window w, int planes, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = w.Width, ow = w.OutWidth;
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* y = output + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, y += ow)
            {
                T* r0 = x + (nint)(2 * oy) * width, r1 = r0 + width;
                int ox = typeof(T) == typeof(float) ? MaxPoolTwoByTwoRows.Forward((float*)r0, (float*)r1, (float*)y, ow) : 0;
                for (; ox < ow; ox++)
                {
                    // Rows first, then columns, as the general path merges them.
                    T left = MaxOrNaN(r0[2 * ox], r1[2 * ox]), right = MaxOrNaN(r0[2 * ox + 1], r1[2 * ox + 1]);
                    y[ox] = MaxOrNaN(left, right);
                }
            }
        }
    }

    /// <summary>
    /// Writes every covered input's gradient directly (the output gradient at the window's maximum, 0
    /// beside it), so no clearing pass. Branch-free for the same reason as <see cref="MaxOrNaN{T}"/>.
    /// </summary>
    private static void MaxBackwardTwoByTwo<T>(in Window w, int planes, T* grad, T* input, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = w.Width, ow = w.OutWidth;
        // Odd sizes leave the last row or column outside every window: those get zeros first.
        if (2 * w.OutHeight != w.Height || 2 * ow != width) new Span<T>(gradInput, checked(planes * w.InArea)).Clear();
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* dx = gradInput + (nint)p * w.InArea;
            T* dy = grad + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, dy += ow)
            {
                nint top = (nint)(2 * oy) * width;
                T* r0 = x + top, r1 = r0 + width, d0 = dx + top, d1 = d0 + width;
                int ox = typeof(T) == typeof(float) ? MaxPoolTwoByTwoRows.Backward((float*)r0, (float*)r1, (float*)dy, (float*)d0, (float*)d1, ow) : 0;
                for (; ox < ow; ox++)
                {
                    int c = 2 * ox;
                    // The first maximum in window order wins, a later NaN replaces it (as ArgMax).
                    int arg = ArgMaxOfFour(r0 + c, r1 + c);
                    nint at = (arg & 1) + (nint)(arg >> 1) * width;
                    d0[c] = T.Zero;
                    d0[c + 1] = T.Zero;
                    d1[c] = T.Zero;
                    d1[c + 1] = T.Zero;
                    d0[c + at] = T.Zero + dy[ox];   // as 0 + g in the general path: -0 becomes +0
                }
            }
        }
    }

    /// <summary>Which of a[0], a[1], b[0], b[1] is the window's maximum (0..3) by ArgMax's rule, without branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMaxOfFour<T>(T* a, T* b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector128.IsHardwareAccelerated)
        {
            T best = a[0];
            int index = 0;
            if (a[1] > best || T.IsNaN(a[1])) { best = a[1]; index = 1; }
            if (b[0] > best || T.IsNaN(b[0])) { best = b[0]; index = 2; }
            if (b[1] > best || T.IsNaN(b[1])) index = 3;
            return index;
        }
        var bestV = Vector128.CreateScalarUnsafe(a[0]);
        int arg = 0;
        var v = Vector128.CreateScalarUnsafe(a[1]);
        var take = Takes(bestV, v);
        int t = (int)(take.ExtractMostSignificantBits() & 1);
        bestV = Vector128.ConditionalSelect(take, v, bestV);
        arg += (1 - arg) & -t;
        v = Vector128.CreateScalarUnsafe(b[0]);
        take = Takes(bestV, v);
        t = (int)(take.ExtractMostSignificantBits() & 1);
        bestV = Vector128.ConditionalSelect(take, v, bestV);
        arg += (2 - arg) & -t;
        t = (int)(Takes(bestV, Vector128.CreateScalarUnsafe(b[1])).ExtractMostSignificantBits() & 1);
        arg += (3 - arg) & -t;
        return arg;
    }

    private static void MaxForwardPlanes<T>(in Window w, int planes, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* rowMax = ConvScratch.Get<T>(w.Width);
        var merged = new Span<T>(rowMax, w.Width);
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* y = output + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, y += w.OutWidth)
            {
                int top = oy * w.StrideHeight - w.PadHeight;
                var (k0, k1) = Window.Taps(top, w.KernelHeight, w.DilationHeight, w.Height);
                if (k0 == k1)
                {
                    new Span<T>(y, w.OutWidth).Fill(T.NegativeInfinity);
                    continue;
                }
                new ReadOnlySpan<T>(x + (nint)(top + k0 * w.DilationHeight) * w.Width, w.Width).CopyTo(merged);
                for (int ky = k0 + 1; ky < k1; ky++)
                    TensorPrimitives.Max(merged, new ReadOnlySpan<T>(x + (nint)(top + ky * w.DilationHeight) * w.Width, w.Width), merged);
                MaxAlongRow(w, rowMax, y);
            }
        }
    }

    /// <summary>y[ox] = max of <paramref name="row"/> over the columns of window ox (NaN wins, as in PyTorch).</summary>
    private static void MaxAlongRow<T>(in Window w, T* row, T* y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (inStart, inEnd) = InteriorColumns(w);
        for (int ox = 0; ox < inStart; ox++) y[ox] = MaxOfColumns(w, row, ox);
        for (int ox = Math.Max(inEnd, inStart); ox < w.OutWidth; ox++) y[ox] = MaxOfColumns(w, row, ox);
        if (inEnd <= inStart) return;
        int kw = w.KernelWidth, dw = w.DilationWidth, sw = w.StrideWidth;
        if (sw == 1)
        {
            // Every tap inside the row and adjacent outputs: whole-run maxima of shifted rows.
            int length = inEnd - inStart, first = inStart - w.PadWidth;
            var target = new Span<T>(y + inStart, length);
            new ReadOnlySpan<T>(row + first, length).CopyTo(target);
            for (int kx = 1; kx < kw; kx++)
                TensorPrimitives.Max(target, new ReadOnlySpan<T>(row + first + kx * dw, length), target);
            return;
        }
        T* from = row + inStart * sw - w.PadWidth;
        for (int ox = inStart; ox < inEnd; ox++, from += sw)
        {
            T best = from[0];
            for (int kx = 1; kx < kw; kx++)
            {
                T v = from[kx * dw];
                if (v > best || T.IsNaN(v)) best = v;
            }
            y[ox] = best;
        }
    }

    /// <summary>The maximum of <paramref name="row"/> over the taps of window <paramref name="ox"/> that lie inside it (−∞ for none).</summary>
    private static T MaxOfColumns<T>(in Window w, T* row, int ox) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int left = ox * w.StrideWidth - w.PadWidth;
        var (k0, k1) = Window.Taps(left, w.KernelWidth, w.DilationWidth, w.Width);
        T best = T.NegativeInfinity;
        for (int kx = k0; kx < k1; kx++)
        {
            T v = row[left + kx * w.DilationWidth];
            if (v > best || T.IsNaN(v)) best = v;
        }
        return best;
    }

    /// <summary>The kernel columns of window <paramref name="ox"/> inside the input, without dividing when all are.</summary>
    private static (int Start, int End) ColumnTaps(in Window w, int left)
        => left >= 0 && left + (w.KernelWidth - 1) * w.DilationWidth < w.Width
            ? (0, w.KernelWidth)
            : Window.Taps(left, w.KernelWidth, w.DilationWidth, w.Width);

    /// <summary>
    /// The input offset (within a plane) of the maximum of the window with rows [ky0, ky1) from
    /// <paramref name="top"/> and columns [kx0, kx1) from <paramref name="left"/>. The first maximum in
    /// row-major window order wins; a later NaN replaces it (PyTorch's rule).
    /// </summary>
    private static int ArgMax<T>(in Window w, T* x, int top, int ky0, int ky1, int left, int kx0, int kx1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = w.Width, dh = w.DilationHeight, dw = w.DilationWidth;
        int arg = (top + ky0 * dh) * width + left + kx0 * dw;
        T best = T.NegativeInfinity;
        for (int ky = ky0; ky < ky1; ky++)
        {
            int rowStart = (top + ky * dh) * width + left;
            for (int kx = kx0; kx < kx1; kx++)
            {
                int at = rowStart + kx * dw;
                T v = x[at];
                // Written as selects so the JIT can emit conditional moves: maxima move unpredictably.
                bool take = v > best || T.IsNaN(v);
                best = take ? v : best;
                arg = take ? at : arg;
            }
        }
        return arg;
    }

    private static void MaxBackwardPlanes<T>(in Window w, int planes, T* grad, T* input, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(gradInput, checked(planes * w.InArea)).Clear();
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* dx = gradInput + (nint)p * w.InArea;
            T* dy = grad + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, dy += w.OutWidth)
            {
                int top = oy * w.StrideHeight - w.PadHeight;
                var (ky0, ky1) = Window.Taps(top, w.KernelHeight, w.DilationHeight, w.Height);
                if (ky0 == ky1) continue;
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    int left = ox * w.StrideWidth - w.PadWidth;
                    var (kx0, kx1) = ColumnTaps(w, left);
                    if (kx0 < kx1) dx[ArgMax(w, x, top, ky0, ky1, left, kx0, kx1)] += dy[ox];
                }
            }
        }
    }

    /// <summary>output[o] = values at the maximum of window o of <paramref name="input"/> (0 for a window outside the input).</summary>
    internal static void MaxGather<T>(in Window w, int planes, T* values, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* v = values + (nint)p * w.InArea;
            T* y = output + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, y += w.OutWidth)
            {
                int top = oy * w.StrideHeight - w.PadHeight;
                var (ky0, ky1) = Window.Taps(top, w.KernelHeight, w.DilationHeight, w.Height);
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    int left = ox * w.StrideWidth - w.PadWidth;
                    var (kx0, kx1) = ColumnTaps(w, left);
                    y[ox] = ky0 < ky1 && kx0 < kx1 ? v[ArgMax(w, x, top, ky0, ky1, left, kx0, kx1)] : T.Zero;
                }
            }
        }
    }

    // ---- average ----

    /// <summary>
    /// Average pooling as PyTorch computes it: the window is clipped to the padded input; with
    /// <paramref name="countIncludePad"/> the divisor counts the padding inside it, otherwise only the
    /// input elements. Dilation is not used (average pooling has none).
    /// </summary>
    internal static void AvgForward<T>(in Window w, int planes, bool countIncludePad, T* input, T* output, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new AverageJob<T>(w, AverageJob<T>.Forward, countIncludePad, input, output);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    /// <summary>gradInput = the adjoint of <see cref="AvgForward{T}"/>: each output gradient divided by its window's count, spread over the window.</summary>
    internal static void AvgBackward<T>(in Window w, int planes, bool countIncludePad, T* grad, T* gradInput, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new AverageJob<T>(w, AverageJob<T>.Backward, countIncludePad, grad, gradInput);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    internal static void AdaptiveAvgForward<T>(int planes, int height, int width, int outHeight, int outWidth, T* input, T* output, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = AdaptiveWindow(height, width, outHeight, outWidth);
        var job = new AverageJob<T>(w, AverageJob<T>.AdaptiveForward, false, input, output);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    internal static void AdaptiveAvgBackward<T>(int planes, int height, int width, int outHeight, int outWidth, T* grad, T* gradInput, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = AdaptiveWindow(height, width, outHeight, outWidth);
        var job = new AverageJob<T>(w, AverageJob<T>.AdaptiveBackward, false, grad, gradInput);
        RunPlanes(w, planes, pool ?? WorkerPool.Shared, ref job);
    }

    // Only the sizes are read by the adaptive loops.
    private static Window AdaptiveWindow(int height, int width, int outHeight, int outWidth) => new(height, width, outHeight, outWidth, 1, 1, 1, 1, 0, 0, 1, 1);

    /// <summary>The average-pool loops over a run of planes: source is the input (forward) or the output gradient (backward).</summary>
    private readonly struct AverageJob<T>(Window w, int mode, bool countIncludePad, T* source, T* destination) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        internal const int Forward = 0, Backward = 1, AdaptiveForward = 2, AdaptiveBackward = 3;

        public void Run(int start, int end)
        {
            int planes = end - start;
            bool backward = mode is Backward or AdaptiveBackward;
            T* src = source + (nint)start * (backward ? w.OutArea : w.InArea);
            T* dst = destination + (nint)start * (backward ? w.InArea : w.OutArea);
            switch (mode)
            {
                case Forward: AvgForwardPlanes(w, planes, countIncludePad, src, dst); break;
                case Backward: AvgBackwardPlanes(w, planes, countIncludePad, src, dst); break;
                case AdaptiveForward: AdaptiveAvgForwardPlanes(planes, w.Height, w.Width, w.OutHeight, w.OutWidth, src, dst); break;
                default: AdaptiveAvgBackwardPlanes(planes, w.Height, w.Width, w.OutHeight, w.OutWidth, src, dst); break;
            }
        }
    }

    private static void AvgForwardPlanes<T>(in Window w, int planes, bool countIncludePad, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* rowSum = ConvScratch.Get<T>(w.Width);
        var merged = new Span<T>(rowSum, w.Width);
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* y = output + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, y += w.OutWidth)
            {
                var (top, bottom, padRows) = AvgSpan(oy, w.StrideHeight, w.PadHeight, w.KernelHeight, w.Height);
                if (top >= bottom)
                {
                    new Span<T>(y, w.OutWidth).Clear();
                    continue;
                }
                new ReadOnlySpan<T>(x + (nint)top * w.Width, w.Width).CopyTo(merged);
                for (int iy = top + 1; iy < bottom; iy++)
                    TensorPrimitives.Add(merged, new ReadOnlySpan<T>(x + (nint)iy * w.Width, w.Width), merged);
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    var (left, right, padColumns) = AvgSpan(ox, w.StrideWidth, w.PadWidth, w.KernelWidth, w.Width);
                    if (left >= right)
                    {
                        y[ox] = T.Zero;
                        continue;
                    }
                    T sum = rowSum[left];
                    for (int ix = left + 1; ix < right; ix++) sum += rowSum[ix];
                    int count = countIncludePad ? padRows * padColumns : (bottom - top) * (right - left);
                    y[ox] = sum / T.CreateTruncating(count);
                }
            }
        }
    }

    private static void AvgBackwardPlanes<T>(in Window w, int planes, bool countIncludePad, T* grad, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(gradInput, checked(planes * w.InArea)).Clear();
        T* rowGrad = ConvScratch.Get<T>(w.Width);
        var spread = new Span<T>(rowGrad, w.Width);
        for (int p = 0; p < planes; p++)
        {
            T* dx = gradInput + (nint)p * w.InArea;
            T* dy = grad + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++, dy += w.OutWidth)
            {
                var (top, bottom, padRows) = AvgSpan(oy, w.StrideHeight, w.PadHeight, w.KernelHeight, w.Height);
                if (top >= bottom) continue;
                spread.Clear();
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    var (left, right, padColumns) = AvgSpan(ox, w.StrideWidth, w.PadWidth, w.KernelWidth, w.Width);
                    if (left >= right) continue;
                    int count = countIncludePad ? padRows * padColumns : (bottom - top) * (right - left);
                    T share = dy[ox] / T.CreateTruncating(count);
                    for (int ix = left; ix < right; ix++) rowGrad[ix] += share;
                }
                for (int iy = top; iy < bottom; iy++)
                {
                    var target = new Span<T>(dx + (nint)iy * w.Width, w.Width);
                    TensorPrimitives.Add(target, spread, target);
                }
            }
        }
    }

    /// <summary>Window o of an average pool: its input range [Start, End) and its size clipped to the padded input.</summary>
    private static (int Start, int End, int Padded) AvgSpan(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        int end = Math.Min(start + kernel, size + pad);
        int padded = end - start;
        return (Math.Max(start, 0), Math.Min(end, size), padded);
    }

    // ---- adaptive average ----

    /// <summary>Output i of an adaptive pool covers [floor(i·size/outSize), ceil((i+1)·size/outSize)).</summary>
    internal static (int Start, int End) AdaptiveSpan(int i, int size, int outSize)
        => ((int)((long)i * size / outSize), (int)(((long)(i + 1) * size + outSize - 1) / outSize));

    private static void AdaptiveAvgForwardPlanes<T>(int planes, int height, int width, int outHeight, int outWidth, T* input, T* output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* rowSum = ConvScratch.Get<T>(width);
        var merged = new Span<T>(rowSum, width);
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * height * width;
            T* y = output + (nint)p * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++, y += outWidth)
            {
                var (top, bottom) = AdaptiveSpan(oy, height, outHeight);
                new ReadOnlySpan<T>(x + (nint)top * width, width).CopyTo(merged);
                for (int iy = top + 1; iy < bottom; iy++)
                    TensorPrimitives.Add(merged, new ReadOnlySpan<T>(x + (nint)iy * width, width), merged);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    var (left, right) = AdaptiveSpan(ox, width, outWidth);
                    T sum = TensorPrimitives.Sum<T>(merged[left..right]);
                    y[ox] = sum / T.CreateTruncating((bottom - top) * (right - left));
                }
            }
        }
    }

    private static void AdaptiveAvgBackwardPlanes<T>(int planes, int height, int width, int outHeight, int outWidth, T* grad, T* gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(gradInput, checked(planes * height * width)).Clear();
        T* rowGrad = ConvScratch.Get<T>(width);
        var spread = new Span<T>(rowGrad, width);
        for (int p = 0; p < planes; p++)
        {
            T* dx = gradInput + (nint)p * height * width;
            T* dy = grad + (nint)p * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++, dy += outWidth)
            {
                var (top, bottom) = AdaptiveSpan(oy, height, outHeight);
                spread.Clear();
                for (int ox = 0; ox < outWidth; ox++)
                {
                    var (left, right) = AdaptiveSpan(ox, width, outWidth);
                    T share = dy[ox] / T.CreateTruncating((bottom - top) * (right - left));
                    for (int ix = left; ix < right; ix++) rowGrad[ix] += share;
                }
                for (int iy = top; iy < bottom; iy++)
                {
                    var target = new Span<T>(dx + (nint)iy * width, width);
                    TensorPrimitives.Add(target, spread, target);
                }
            }
        }
    }

    /// <summary>The outputs [Start, End) whose whole window lies inside the row (Start = End when none does).</summary>
    private static (int Start, int End) InteriorColumns(in Window w)
    {
        int span = (w.KernelWidth - 1) * w.DilationWidth;
        int start = (w.PadWidth + w.StrideWidth - 1) / w.StrideWidth;
        int last = w.Width - 1 - span + w.PadWidth;
        int end = last < 0 ? 0 : last / w.StrideWidth + 1;
        start = Math.Min(start, w.OutWidth);
        return (start, Math.Clamp(end, start, w.OutWidth));
    }
}
