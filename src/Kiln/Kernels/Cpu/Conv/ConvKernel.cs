using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// 2-D convolution (NCHW, float32 and float64) and its two gradients, as im2col + GEMM per image and
/// group. The unfolded matrix lives in the thread's <see cref="ConvScratch"/> and is built for a band
/// of output rows at a time, so its size stays near <see cref="ScratchBytes"/> whatever the image size.
/// 1x1 stride-1 convolutions skip the unfolding (the input planes already are the matrix); groups of
/// one input channel (depthwise) go to <see cref="DepthwiseConvKernel"/>. All pointers are to
/// contiguous tensors.
/// <para>
/// Threading: a batch of images is spread over the pool whole images at a time, each thread taking
/// the next image as it finishes one, unfolding into its own scratch and running single-threaded
/// GEMMs (one image alone uses the threaded GEMM instead). The weight gradient sums over images: the batch is cut into <see cref="ReductionChunks"/>
/// fixed runs of images whose partial sums are added in chunk order, so the cut and the order of every
/// addition depend only on the batch size, and the result has the same bits whatever the thread count.
/// </para>
/// </summary>
internal static unsafe class ConvKernel
{
    /// <summary>Target size of one band of the unfolded matrix: a few MiB keeps it in the outer caches.</summary>
    internal const int ScratchBytes = 4 << 20;

    /// <summary>Most runs of images whose weight-gradient partials are summed (fixed, so the bits do not depend on the thread count).</summary>
    internal const int ReductionChunks = 8;

    /// <summary>output[N, O, OH, OW] = conv(input[N, C, H, W], weight[O, C/groups, kH, kW]).</summary>
    internal static void Forward<T>(in ConvGeometry g, T* input, T* weight, T* output) where T : unmanaged, IFloatingPointIeee754<T>
        => Forward(g, input, weight, output, WorkerPool.Shared);

    /// <summary>The forward pass on an explicit pool (null: the calling thread only), so tests can vary the thread count.</summary>
    internal static void Forward<T>(in ConvGeometry g, T* input, T* weight, T* output, WorkerPool? pool) where T : unmanaged, IFloatingPointIeee754<T>
        => Forward(g, input, weight, null, output, pool);

    /// <summary>
    /// The forward pass plus <paramref name="bias"/>[O] (null: none), added to each output plane while
    /// it is still in cache, or in the epilogue of the implicit-GEMM tiles.
    /// </summary>
    internal static void Forward<T>(in ConvGeometry g, T* input, T* weight, T* bias, T* output, WorkerPool? pool) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.Forward(g, input, weight, output);
            if (bias != null)
                for (int n = 0; n < g.Batch; n++) AddBias(bias, output + (nint)n * g.OutChannels * g.OutArea, g.OutChannels, g.OutArea);
            return;
        }
        if (typeof(T) == typeof(float) && WinogradConvKernel.SupportsForward(g))
        {
            WinogradConvKernel.Forward(g, (float*)input, (float*)weight, (float*)bias, (float*)output, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        if (typeof(T) == typeof(float) && ForwardTakesImplicitGemm(g))
        {
            ImplicitGemmConvKernel.Forward(g, (float*)input, (float*)weight, (float*)bias, (float*)output, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        if (TakesBands(g, pool))
        {
            ForwardBands(g, input, weight, bias, output, pool!, relu: false);
            return;
        }
        var job = new ImageJob<T>(g, ConvPass.Forward, input, weight, output, bias);
        RunImages(g, pool, ref job);
    }

    /// <summary>Whether the float32 forward pass of this shape runs on <see cref="ImplicitGemmConvKernel"/>, the path that takes prepacked weights and a ReLU epilogue.</summary>
    internal static bool ForwardTakesImplicitGemm(in ConvGeometry g)
        => !g.IsDepthwise && !g.IsPointwise && !WinogradConvKernel.SupportsForward(g) && ImplicitGemmConvKernel.SupportsForward(g);

    /// <summary>
    /// The float32 forward pass of a compiled graph's fused convolution, ReLU applied as outputs are
    /// stored: on the Winograd path with weights transformed beforehand (<paramref name="packed"/>, any
    /// batch size) or now (where Forward would take it anyway); on the implicit-GEMM path with weights
    /// packed beforehand (null: packed now); on the bands path (fewer images than threads), per band while
    /// it is in cache. Returns false when another path ran the plain forward pass, leaving ReLU to the caller.
    /// </summary>
    internal static bool ForwardFused(in ConvGeometry g, float* input, float* weight, PackedConvWeights? packed, float* bias, float* output, WorkerPool? pool, bool relu)
    {
        if (packed is { IsWinograd: true } && packed.Fits(g) && WinogradConvKernel.SupportsShape(g))
        {
            WinogradConvKernel.ForwardTransformed(g, input, packed.Data, bias, output, pool, relu);
            ConvScratch.ReleaseLarge();
            return true;
        }
        if (WinogradConvKernel.SupportsForward(g))
        {
            WinogradConvKernel.Forward(g, input, weight, bias, output, pool, relu);
            ConvScratch.ReleaseLarge();
            return true;
        }
        if (!ForwardTakesImplicitGemm(g))
        {
            // The rest of Forward's paths: depthwise has no epilogue of its own, bands apply ReLU per band.
            if (!g.IsDepthwise && TakesBands(g, pool))
            {
                ForwardBands(g, input, weight, bias, output, pool!, relu);
                return true;
            }
            Forward(g, input, weight, bias, output, pool);
            return false;
        }
        if (packed is { IsWinograd: false } && packed.Fits(g)) ImplicitGemmConvKernel.ForwardPacked(g, input, packed.Data, bias, output, pool, relu);
        else ImplicitGemmConvKernel.Forward(g, input, weight, bias, output, pool, relu);
        ConvScratch.ReleaseLarge();
        return true;
    }

    /// <summary>
    /// The forward pass of fewer images than threads: each image's output rows cut into bands shared out
    /// over the pool, each band unfolded into its thread's scratch and multiplied on that thread. One
    /// image's product is often too small for the GEMM to thread (a 28×28 image against 32 5×5 filters:
    /// 0.6M multiply-adds), so without bands one thread ran it alone. The GEMM's outputs do not depend
    /// on how its columns are cut, so the bits are the whole image's.
    /// </summary>
    private static void ForwardBands<T>(in ConvGeometry g, T* input, T* weight, T* bias, T* output, WorkerPool pool, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int wanted = (pool.ThreadCount + g.Batch - 1) / g.Batch;
        int bandRows = Math.Min(BandRows<T>(g), (g.OutHeight + wanted - 1) / wanted);
        int bands = (g.OutHeight + bandRows - 1) / bandRows;
        var job = new ForwardBandsJob<T>(g, input, weight, bias, output, bandRows, bands, relu);
        pool.For(g.Batch * bands, 1, ref job);
    }

    /// <summary>Whether the (non-depthwise, not implicit-GEMM) forward pass shares bands of output rows: fewer images than threads.</summary>
    private static bool TakesBands(in ConvGeometry g, WorkerPool? pool)
        => pool is not null && g.Batch > 0 && g.Batch < pool.ThreadCount && !g.IsPointwise && g.OutHeight > 1;

    /// <summary>Items [start, end) of <see cref="ForwardBands{T}"/>: band item % bands of image item / bands, every group, through ReLU when asked.</summary>
    private readonly struct ForwardBandsJob<T>(ConvGeometry g, T* input, T* weight, T* bias, T* output, int bandRows, int bands, bool relu) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea, ow = g.OutWidth;
            T* columns = ConvScratch.Get<T>((long)k * bandRows * ow);
            for (int item = start; item < end; item++)
            {
                int n = item / bands, row = (item - n * bands) * bandRows, rowEnd = Math.Min(g.OutHeight, row + bandRows);
                int bandColumns = (rowEnd - row) * ow;
                for (int group = 0; group < g.Groups; group++)
                {
                    T* x = input + ((nint)n * g.Channels + (nint)group * cg) * g.InArea;
                    T* y = output + ((nint)n * g.OutChannels + (nint)group * og) * ohw + (nint)row * ow;
                    Im2ColKernel.Unfold(g, x, cg, row, rowEnd, columns);
                    Gemm(false, false, og, bandColumns, k, weight + (nint)group * og * k, k, columns, bandColumns, y, ohw, accumulate: false, null);
                    if (bias == null && !relu) continue;
                    for (int o = 0; o < og; o++)
                    {
                        var span = new Span<T>(y + (nint)o * ohw, bandColumns);
                        if (bias != null) TensorPrimitives.Add(span, bias[group * og + o], span);
                        if (relu) ElementwiseLoop.DenseUnary(y + (nint)o * ohw, y + (nint)o * ohw, bandColumns, new ReluOperator<T>());
                    }
                }
            }
        }
    }

    /// <summary>planes[o] += bias[o] for <paramref name="channels"/> consecutive planes of <paramref name="area"/> values.</summary>
    private static void AddBias<T>(T* bias, T* planes, int channels, int area) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < channels; o++)
        {
            var plane = new Span<T>(planes + (nint)o * area, area);
            TensorPrimitives.Add(plane, bias[o], plane);
        }
    }

    /// <summary>gradInput[N, C, H, W] = convᵀ(grad[N, O, OH, OW], weight): col2im of Wᵀ·grad.</summary>
    internal static void InputGrad<T>(in ConvGeometry g, T* grad, T* weight, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
        => InputGrad(g, grad, weight, gradInput, WorkerPool.Shared);

    /// <summary>The input gradient on an explicit pool (null: the calling thread only).</summary>
    internal static void InputGrad<T>(in ConvGeometry g, T* grad, T* weight, T* gradInput, WorkerPool? pool) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.InputGrad(g, grad, weight, gradInput);
            return;
        }
        if (typeof(T) == typeof(float) && WinogradConvKernel.SupportsInputGrad(g))
        {
            WinogradConvKernel.InputGrad(g, (float*)grad, (float*)weight, (float*)gradInput, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        if (typeof(T) == typeof(float) && !g.IsPointwise && ImplicitGemmConvKernel.SupportsInputGrad(g))
        {
            ImplicitGemmConvKernel.InputGrad(g, (float*)grad, (float*)weight, (float*)gradInput, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        var job = new ImageJob<T>(g, ConvPass.InputGrad, grad, weight, gradInput);
        RunImages(g, pool, ref job);
    }

    /// <summary>gradWeight[O, C/groups, kH, kW] = Σ over images of grad·unfold(input)ᵀ.</summary>
    internal static void WeightGrad<T>(in ConvGeometry g, T* input, T* grad, T* gradWeight) where T : unmanaged, IFloatingPointIeee754<T>
        => WeightGrad(g, input, grad, gradWeight, WorkerPool.Shared);

    /// <summary>The weight gradient on an explicit pool (null: the calling thread only).</summary>
    internal static void WeightGrad<T>(in ConvGeometry g, T* input, T* grad, T* gradWeight, WorkerPool? pool) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseConvKernel.WeightGrad(g, input, grad, gradWeight);
            return;
        }
        if (typeof(T) == typeof(float) && WinogradConvKernel.SupportsWeightGrad(g))
        {
            WinogradConvKernel.WeightGrad(g, (float*)input, (float*)grad, (float*)gradWeight, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        if (typeof(T) == typeof(float) && !g.IsPointwise && ImplicitGemmConvKernel.SupportsWeightGrad(g))
        {
            ImplicitGemmConvKernel.WeightGrad(g, (float*)input, (float*)grad, (float*)gradWeight, pool);
            ConvScratch.ReleaseLarge();
            return;
        }
        int size = g.OutChannels * g.PatchSize;
        int chunks = Math.Min(g.Batch, ReductionChunks);
        if (chunks <= 1 || size == 0)
        {
            // One run of images: the GEMMs accumulate straight into the result, threaded inside.
            if (g.Batch == 0) new Span<T>(gradWeight, size).Clear();
            else new ImageJob<T>(g, ConvPass.WeightGrad, input, grad, gradWeight).Run(0, g.Batch, pool);
            return;
        }
        T* partials = ConvScratch.Partials<T>((long)chunks * size);
        bool transposed = TransposedPartials(g);
        var job = new WeightChunksJob<T>(g, input, grad, partials, chunks, transposed);
        if (pool is null || pool.Parts(chunks, 1) <= 1) job.Run(0, chunks, pool);
        else Share(pool, chunks, ref job);
        // Partials summed in chunk order: the same additions whatever ran where.
        if (transposed)
        {
            SumTransposed(g, partials, chunks, gradWeight);
            return;
        }
        var sum = new Span<T>(gradWeight, size);
        new ReadOnlySpan<T>(partials, size).CopyTo(sum);
        for (int c = 1; c < chunks; c++) TensorPrimitives.Add(sum, new ReadOnlySpan<T>(partials + (nint)c * size, size), sum);
    }

    /// <summary>
    /// Short patches (a first layer's one channel: 25 taps against 32 filters) multiply faster as
    /// unfold(input)·gradᵀ, a [patch, filters] partial: the GEMM packs fewer, longer panels.
    /// </summary>
    private static bool TransposedPartials(in ConvGeometry g) => !g.IsPointwise && g.PatchSize < g.GroupOutChannels;

    /// <summary>gradWeight[group, o, t] = Σ over chunks, in order, of partial[chunk, group, t, o].</summary>
    private static void SumTransposed<T>(in ConvGeometry g, T* partials, int chunks, T* gradWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, k = g.PatchSize, size = g.OutChannels * k;
        for (int group = 0; group < g.Groups; group++)
        {
            T* dw = gradWeight + (nint)group * og * k;
            for (int o = 0; o < og; o++)
            for (int t = 0; t < k; t++)
            {
                T* p = partials + (nint)group * og * k + (nint)t * og + o;
                T total = p[0];
                for (int c = 1; c < chunks; c++) total += p[(nint)c * size];
                dw[(nint)o * k + t] = total;
            }
        }
    }

    /// <summary>Spreads whole images over the pool with single-threaded GEMMs, or runs one image with the threaded GEMM.</summary>
    private static void RunImages<T>(in ConvGeometry g, WorkerPool? pool, ref ImageJob<T> job) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (pool is null || pool.Parts(g.Batch, 1) <= 1) job.Run(0, g.Batch, pool);
        else Share(pool, g.Batch, ref job);
    }

    /// <summary>
    /// Runs items [0, count) on every thread of the pool, each taking the next item as it finishes
    /// one, so a thread slowed by other work on a shared machine takes fewer. Every item's result
    /// depends only on the item, so the bits do not depend on which thread ran it.
    /// </summary>
    private static void Share<TJob>(WorkerPool pool, int count, ref TJob job) where TJob : unmanaged, IWorkerJob
    {
        int next = 0;
        var shared = new SharedItems<TJob>(job, &next, count);
        pool.For(pool.ThreadCount, 1, ref shared);
    }

    /// <summary>One participant of <see cref="Share{TJob}"/>: its range is ignored, items come from the shared counter.</summary>
    private readonly struct SharedItems<TJob>(TJob job, int* next, int count) : IWorkerJob where TJob : unmanaged, IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int item = Interlocked.Increment(ref *next) - 1; item < count; item = Interlocked.Increment(ref *next) - 1)
                job.Run(item, item + 1);
        }
    }

    private enum ConvPass { Forward, InputGrad, WeightGrad, WeightGradTransposed }

    /// <summary>
    /// One pass over images [start, end): forward (a = input, b = weight, c = output), input gradient
    /// (a = grad, b = weight, c = gradInput) or weight gradient accumulated over the images (a = input,
    /// b = grad, c = gradWeight, which the first image overwrites).
    /// </summary>
    private readonly struct ImageJob<T>(ConvGeometry g, ConvPass pass, T* a, T* b, T* c, T* bias = null) : IWorkerJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end) => Run(start, end, null);

        /// <summary>Images [start, end) with GEMMs on <paramref name="pool"/> (null inside a loop that already spreads the images).</summary>
        internal void Run(int start, int end, WorkerPool? pool)
        {
            if (start >= end) return;
            int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
            int bandRows = BandRows<T>(g);
            T* columns = g.IsPointwise ? null : ConvScratch.Get<T>((long)k * bandRows * g.OutWidth);
            if (pass == ConvPass.InputGrad && !g.IsPointwise)
                new Span<T>(c + (nint)start * g.Channels * g.InArea, checked((end - start) * g.Channels * g.InArea)).Clear();
            for (int n = start; n < end; n++)
            {
                for (int group = 0; group < g.Groups; group++)
                {
                    T* x = (pass == ConvPass.InputGrad ? c : a) + ((nint)n * g.Channels + (nint)group * cg) * g.InArea;
                    T* y = (pass == ConvPass.Forward ? c : pass == ConvPass.InputGrad ? a : b) + ((nint)n * g.OutChannels + (nint)group * og) * ohw;
                    bool weightGrad = pass is ConvPass.WeightGrad or ConvPass.WeightGradTransposed;
                    T* w = (weightGrad ? c : b) + (nint)group * og * k;
                    bool first = n == start;
                    switch (pass)
                    {
                        case ConvPass.Forward:
                            ForwardImage(g, x, w, y, columns, bandRows, pool);
                            if (bias != null) AddBias(bias + (nint)group * og, y, og, ohw);
                            break;
                        case ConvPass.InputGrad: InputGradImage(g, y, w, x, columns, bandRows, pool); break;
                        default: WeightGradImage(g, x, y, w, columns, bandRows, accumulate: !first, pass == ConvPass.WeightGradTransposed, pool); break;
                    }
                }
            }
        }
    }

    /// <summary>Weight-gradient partials: chunk i sums its fixed run of images into partials + i·size.</summary>
    private readonly struct WeightChunksJob<T>(ConvGeometry g, T* input, T* grad, T* partials, int chunks, bool transposed) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end) => Run(start, end, null);

        internal void Run(int start, int end, WorkerPool? pool)
        {
            int size = g.OutChannels * g.PatchSize;
            for (int chunk = start; chunk < end; chunk++)
            {
                int first = (int)((long)g.Batch * chunk / chunks), last = (int)((long)g.Batch * (chunk + 1) / chunks);
                var pass = transposed ? ConvPass.WeightGradTransposed : ConvPass.WeightGrad;
                new ImageJob<T>(g, pass, input, grad, partials + (nint)chunk * size).Run(first, last, pool);
            }
        }
    }

    private static void ForwardImage<T>(in ConvGeometry g, T* x, T* w, T* y, T* columns, int bandRows, WorkerPool? pool)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        if (g.IsPointwise)
        {
            Gemm(false, false, og, ohw, k, w, k, x, ohw, y, ohw, accumulate: false, pool);
            return;
        }
        for (int row = 0; row < g.OutHeight; row += bandRows)
        {
            int rowEnd = Math.Min(g.OutHeight, row + bandRows);
            int bandColumns = (rowEnd - row) * g.OutWidth;
            Im2ColKernel.Unfold(g, x, g.GroupChannels, row, rowEnd, columns);
            Gemm(false, false, og, bandColumns, k, w, k, columns, bandColumns, y + (nint)row * g.OutWidth, ohw, accumulate: false, pool);
        }
    }

    private static void InputGradImage<T>(in ConvGeometry g, T* dy, T* w, T* dx, T* columns, int bandRows, WorkerPool? pool)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cg = g.GroupChannels, og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        if (g.IsPointwise)
        {
            Gemm(true, false, cg, ohw, og, w, k, dy, ohw, dx, ohw, accumulate: false, pool);
            return;
        }
        for (int row = 0; row < g.OutHeight; row += bandRows)
        {
            int rowEnd = Math.Min(g.OutHeight, row + bandRows);
            int bandColumns = (rowEnd - row) * g.OutWidth;
            Gemm(true, false, k, bandColumns, og, w, k, dy + (nint)row * g.OutWidth, ohw, columns, bandColumns, accumulate: false, pool);
            Col2ImKernel.Fold(g, columns, cg, row, rowEnd, dx);
        }
    }

    /// <summary>dw (+)= dy·unfold(x)ᵀ, or with <paramref name="transposed"/> dwᵀ [patch, filters] (+)= unfold(x)·dyᵀ.</summary>
    private static void WeightGradImage<T>(in ConvGeometry g, T* x, T* dy, T* dw, T* columns, int bandRows, bool accumulate, bool transposed, WorkerPool? pool)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, k = g.PatchSize, ohw = g.OutArea;
        if (g.IsPointwise)
        {
            Gemm(false, true, og, k, ohw, dy, ohw, x, ohw, dw, k, accumulate, pool);
            return;
        }
        for (int row = 0; row < g.OutHeight; row += bandRows)
        {
            int rowEnd = Math.Min(g.OutHeight, row + bandRows);
            int bandColumns = (rowEnd - row) * g.OutWidth;
            Im2ColKernel.Unfold(g, x, g.GroupChannels, row, rowEnd, columns);
            if (transposed)
                Gemm(false, true, k, og, bandColumns, columns, bandColumns, dy + (nint)row * g.OutWidth, ohw, dw, og, accumulate || row > 0, pool);
            else
                Gemm(false, true, og, k, bandColumns, dy + (nint)row * g.OutWidth, ohw, columns, bandColumns, dw, k, accumulate || row > 0, pool);
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
    private static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, T* c, int ldc, bool accumulate, WorkerPool? pool)
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
            GemmKernel.Multiply(transA, transB, m, n, k, (float*)a, lda, (float*)b, ldb, (float*)c, ldc, accumulate ? 1f : 0f, GemmKernel.BestTier, pool);
        else if (typeof(T) == typeof(double))
            GemmKernel.Multiply(transA, transB, m, n, k, (double*)a, lda, (double*)b, ldb, (double*)c, ldc, accumulate ? 1d : 0d, GemmKernel.BestTier, pool);
        else
            throw new NotSupportedException($"convolution has no {typeof(T).Name} kernel");
    }
}
