using System.Numerics;
using System.Numerics.Tensors;

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

    internal static void MaxForward<T>(in Window w, int planes, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
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
        for (int ox = 0; ox < w.OutWidth; ox++)
        {
            if (ox == inStart && inEnd > inStart)
            {
                // Stride 1, every tap inside the row: shifted whole-run maxima.
                int length = inEnd - inStart;
                var target = new Span<T>(y + inStart, length);
                int first = inStart - w.PadWidth;
                new ReadOnlySpan<T>(row + first, length).CopyTo(target);
                for (int kx = 1; kx < w.KernelWidth; kx++)
                    TensorPrimitives.Max(target, new ReadOnlySpan<T>(row + first + kx * w.DilationWidth, length), target);
                ox = inEnd - 1;
                continue;
            }
            int left = ox * w.StrideWidth - w.PadWidth;
            var (k0, k1) = Window.Taps(left, w.KernelWidth, w.DilationWidth, w.Width);
            T best = T.NegativeInfinity;
            for (int kx = k0; kx < k1; kx++)
            {
                T v = row[left + kx * w.DilationWidth];
                if (v > best || T.IsNaN(v)) best = v;
            }
            y[ox] = best;
        }
    }

    /// <summary>
    /// The input offset (within a plane) of the maximum of window (oy, ox), or −1 for a window with no
    /// tap inside the input. The first maximum in row-major window order wins; a later NaN replaces it.
    /// </summary>
    private static int ArgMax<T>(in Window w, T* x, int oy, int ox) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int top = oy * w.StrideHeight - w.PadHeight, left = ox * w.StrideWidth - w.PadWidth;
        var (ky0, ky1) = Window.Taps(top, w.KernelHeight, w.DilationHeight, w.Height);
        var (kx0, kx1) = Window.Taps(left, w.KernelWidth, w.DilationWidth, w.Width);
        if (ky0 == ky1 || kx0 == kx1) return -1;
        int arg = (top + ky0 * w.DilationHeight) * w.Width + left + kx0 * w.DilationWidth;
        T best = T.NegativeInfinity;
        for (int ky = ky0; ky < ky1; ky++)
        {
            int rowStart = (top + ky * w.DilationHeight) * w.Width + left;
            for (int kx = kx0; kx < kx1; kx++)
            {
                int at = rowStart + kx * w.DilationWidth;
                T v = x[at];
                if (v > best || T.IsNaN(v))
                {
                    best = v;
                    arg = at;
                }
            }
        }
        return arg;
    }

    /// <summary>gradInput = 0, then each output gradient is added at its window's maximum in <paramref name="input"/>.</summary>
    internal static void MaxBackward<T>(in Window w, int planes, T* grad, T* input, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(gradInput, checked(planes * w.InArea)).Clear();
        for (int p = 0; p < planes; p++)
        {
            T* x = input + (nint)p * w.InArea;
            T* dx = gradInput + (nint)p * w.InArea;
            T* dy = grad + (nint)p * w.OutArea;
            for (int oy = 0; oy < w.OutHeight; oy++)
            {
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    int arg = ArgMax(w, x, oy, ox);
                    if (arg >= 0) dx[arg] += dy[oy * w.OutWidth + ox];
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
            for (int oy = 0; oy < w.OutHeight; oy++)
            {
                for (int ox = 0; ox < w.OutWidth; ox++)
                {
                    int arg = ArgMax(w, x, oy, ox);
                    y[oy * w.OutWidth + ox] = arg >= 0 ? v[arg] : T.Zero;
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
    internal static void AvgForward<T>(in Window w, int planes, bool countIncludePad, T* input, T* output) where T : unmanaged, IFloatingPointIeee754<T>
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

    /// <summary>gradInput = the adjoint of <see cref="AvgForward{T}"/>: each output gradient divided by its window's count, spread over the window.</summary>
    internal static void AvgBackward<T>(in Window w, int planes, bool countIncludePad, T* grad, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
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

    internal static void AdaptiveAvgForward<T>(int planes, int height, int width, int outHeight, int outWidth, T* input, T* output)
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

    internal static void AdaptiveAvgBackward<T>(int planes, int height, int width, int outHeight, int outWidth, T* grad, T* gradInput)
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

    /// <summary>With column stride 1, the outputs [Start, End) whose whole window lies inside the row (empty otherwise).</summary>
    private static (int Start, int End) InteriorColumns(in Window w)
    {
        if (w.StrideWidth != 1) return (0, 0);
        int start = Math.Min(w.PadWidth, w.OutWidth);
        int end = Math.Min(w.OutWidth, w.Width - (w.KernelWidth - 1) * w.DilationWidth + w.PadWidth);
        return end > start ? (start, end) : (0, 0);
    }
}
