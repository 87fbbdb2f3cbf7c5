using System.Numerics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// 2-D convolution (NCHW, float32 and float64) and its two gradients, as im2col + GEMM per image and
/// group. The unfolded matrix lives in the thread's <see cref="ConvScratch"/> and is built for a band
/// of output rows at a time, so its size stays near <see cref="ScratchBytes"/> whatever the image size.
/// 1x1 stride-1 convolutions skip the unfolding (the input planes already are the matrix); groups of
/// one input channel (depthwise) go to <see cref="DepthwiseConvKernel"/>. All pointers are to
/// contiguous tensors.
/// </summary>
internal static unsafe class ConvKernel
{
    /// <summary>Target size of one band of the unfolded matrix: a few MiB keeps it in the outer caches.</summary>
    internal const int ScratchBytes = 4 << 20;

    /// <summary>output[N, O, OH, OW] = conv(input[N, C, H, W], weight[O, C/groups, kH, kW]).</summary>
    internal static void Forward<T>(in ConvGeometry g, T* input, T* weight, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.Forward(g, input, weight, output);
            return;
        }
        int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        int bandRows = BandRows<T>(g);
        T* columns = g.IsPointwise ? null : ConvScratch.Get<T>((long)k * bandRows * g.OutWidth);
        for (int n = 0; n < g.Batch; n++)
        {
            for (int group = 0; group < g.Groups; group++)
            {
                T* x = input + ((nint)n * g.Channels + (nint)group * cg) * g.InArea;
                T* w = weight + (nint)group * og * k;
                T* y = output + ((nint)n * g.OutChannels + (nint)group * og) * ohw;
                if (g.IsPointwise)
                {
                    Gemm(false, false, og, ohw, k, w, k, x, ohw, y, ohw, accumulate: false);
                    continue;
                }
                for (int row = 0; row < g.OutHeight; row += bandRows)
                {
                    int rowEnd = Math.Min(g.OutHeight, row + bandRows);
                    int bandColumns = (rowEnd - row) * g.OutWidth;
                    Im2ColKernel.Unfold(g, x, cg, row, rowEnd, columns);
                    Gemm(false, false, og, bandColumns, k, w, k, columns, bandColumns, y + (nint)row * g.OutWidth, ohw, accumulate: false);
                }
            }
        }
    }

    /// <summary>gradInput[N, C, H, W] = convᵀ(grad[N, O, OH, OW], weight): col2im of Wᵀ·grad.</summary>
    internal static void InputGrad<T>(in ConvGeometry g, T* grad, T* weight, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.InputGrad(g, grad, weight, gradInput);
            return;
        }
        int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        if (!g.IsPointwise) new Span<T>(gradInput, checked(g.Batch * g.Channels * g.InArea)).Clear();
        int bandRows = BandRows<T>(g);
        T* columns = g.IsPointwise ? null : ConvScratch.Get<T>((long)k * bandRows * g.OutWidth);
        for (int n = 0; n < g.Batch; n++)
        {
            for (int group = 0; group < g.Groups; group++)
            {
                T* dx = gradInput + ((nint)n * g.Channels + (nint)group * cg) * g.InArea;
                T* w = weight + (nint)group * og * k;
                T* dy = grad + ((nint)n * g.OutChannels + (nint)group * og) * ohw;
                if (g.IsPointwise)
                {
                    Gemm(true, false, cg, ohw, og, w, k, dy, ohw, dx, ohw, accumulate: false);
                    continue;
                }
                for (int row = 0; row < g.OutHeight; row += bandRows)
                {
                    int rowEnd = Math.Min(g.OutHeight, row + bandRows);
                    int bandColumns = (rowEnd - row) * g.OutWidth;
                    Gemm(true, false, k, bandColumns, og, w, k, dy + (nint)row * g.OutWidth, ohw, columns, bandColumns, accumulate: false);
                    Col2ImKernel.Fold(g, columns, cg, row, rowEnd, dx);
                }
            }
        }
    }

    /// <summary>gradWeight[O, C/groups, kH, kW] = Σ over images of grad·unfold(input)ᵀ.</summary>
    internal static void WeightGrad<T>(in ConvGeometry g, T* input, T* grad, T* gradWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.WeightGrad(g, input, grad, gradWeight);
            return;
        }
        int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        new Span<T>(gradWeight, checked(g.OutChannels * k)).Clear();
        int bandRows = BandRows<T>(g);
        T* columns = g.IsPointwise ? null : ConvScratch.Get<T>((long)k * bandRows * g.OutWidth);
        for (int n = 0; n < g.Batch; n++)
        {
            for (int group = 0; group < g.Groups; group++)
            {
                T* x = input + ((nint)n * g.Channels + (nint)group * cg) * g.InArea;
                T* dw = gradWeight + (nint)group * og * k;
                T* dy = grad + ((nint)n * g.OutChannels + (nint)group * og) * ohw;
                if (g.IsPointwise)
                {
                    Gemm(false, true, og, k, ohw, dy, ohw, x, ohw, dw, k, accumulate: true);
                    continue;
                }
                for (int row = 0; row < g.OutHeight; row += bandRows)
                {
                    int rowEnd = Math.Min(g.OutHeight, row + bandRows);
                    int bandColumns = (rowEnd - row) * g.OutWidth;
                    Im2ColKernel.Unfold(g, x, cg, row, rowEnd, columns);
                    Gemm(false, true, og, k, bandColumns, dy + (nint)row * g.OutWidth, ohw, columns, bandColumns, dw, k, accumulate: true);
                }
            }
        }
    }

    /// <summary>Output rows per band so that one band of the unfolded matrix is about <see cref="ScratchBytes"/>.</summary>
    internal static int BandRows<T>(in ConvGeometry g) where T : unmanaged
    {
        long perRow = (long)g.PatchSize * g.OutWidth * sizeof(T);
        if (perRow == 0) return Math.Max(g.OutHeight, 1);
        return (int)Math.Clamp(ScratchBytes / perRow, 1, Math.Max(g.OutHeight, 1));
    }

    /// <summary>C = op(A)·op(B) (+ C when accumulating) on <see cref="GemmKernel"/>; empty products give zeros.</summary>
    private static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, T* c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<T>(c + (nint)i * ldc, n).Clear();
            return;
        }
        if (typeof(T) == typeof(float))
            GemmKernel.Multiply(transA, transB, m, n, k, (float*)a, lda, (float*)b, ldb, (float*)c, ldc, accumulate ? 1f : 0f);
        else if (typeof(T) == typeof(double))
            GemmKernel.Multiply(transA, transB, m, n, k, (double*)a, lda, (double*)b, ldb, (double*)c, ldc, accumulate ? 1d : 0d);
        else
            throw new NotSupportedException($"convolution has no {typeof(T).Name} kernel");
    }
}
