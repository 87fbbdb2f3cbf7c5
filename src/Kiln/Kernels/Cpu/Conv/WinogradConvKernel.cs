using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// float32 5×5 stride-1 convolution by Winograd's minimal filtering F(2×2, 5×5): each 2×2 block of
/// outputs (a tile) comes from a 6×6 window of the input as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 36 products per
/// tile and channel pair where direct convolution does 100, so the multiply count falls 2.8×. The
/// products of one of the 36 transform points, summed over input channels, are a GEMM of
/// [tiles, C]·[C, O]; a Fashion-MNIST CNN's second layer (32→64 channels on 14×14) runs its
/// forward pass and its input gradient (the same convolution of the output gradient with the
/// flipped, transposed kernel) this way. No library supplies this, so the transforms and the GEMM
/// microkernel are written here.
/// <para>
/// Layout: each thread copies one image at a time zero-padded and channels-last ([Hp, Wp, Cp], Cp a
/// multiple of 8) into its scratch, where it stays in cache, so the input transform works on 8 channels
/// per vector; the weight transform is laid out as the GEMM's packed panels ([point, O/16, Cp, 16]),
/// once per call or once per frozen graph. The image's tiles are processed in blocks small enough that
/// their transformed inputs (36 × tiles × Cp) stay in the inner caches while every 16-channel output
/// panel is multiplied against them and transformed back, stored channels-last as whole vectors and
/// moved to the NCHW output by register transposes. With fewer images than threads, an image's tiles
/// are shared out in equal runs.
/// </para>
/// <para>
/// Points 0, ±1, ±2, ∞; the transform matrices, with Bᵀ scaled to integers and G taking the
/// fractions: Bᵀ rows [4,0,−5,0,1,0], [0,4,4,−1,−1,0], [0,−4,4,1,−1,0], [0,−2,−1,2,1,0],
/// [0,2,−1,−2,1,0], [0,4,0,−5,0,1]; G rows [1/4,0,0,0,0], [1,1,1,1,1]/6, [1,−1,1,−1,1]/6,
/// [1/24,1/12,1/6,1/3,2/3], [1/24,−1/12,1/6,−1/3,2/3], [0,0,0,0,1]; Aᵀ rows [1,1,1,1,1,0],
/// [0,1,−1,2,−2,1]. The rounding differs from direct convolution's (relative error about 1e-6 of the
/// inputs' scale), but every output is computed from its own tile alone, so the bits do not depend on
/// the thread count or on how tiles are blocked. An infinite input spreads over its tile's transform,
/// so outputs of that tile that direct convolution would leave finite can be NaN (as in other
/// Winograd implementations); the values of a training step are finite or already lost.
/// </para>
/// </summary>
internal static unsafe partial class WinogradConvKernel
{
    private const int Alpha = 6, Points = Alpha * Alpha, MR = 6, NR = 16, Lanes = 8;

    /// <summary>Most tiles in a block: bounds the 16-channel product block (36 × 24 × 16 floats, 54 KiB).</summary>
    private const int MaxBlockTiles = 24;

    /// <summary>Transformed inputs of one block kept under this many floats (64 KiB): they are read once per output panel.</summary>
    private const int BlockInputFloats = 16 << 10;

    /// <summary>
    /// Fewest channels on either side: with fewer, the transforms cost more than the multiplies they
    /// save (a first layer's single input channel stays on the implicit GEMM).
    /// </summary>
    private const int MinChannels = 16;

    /// <summary>
    /// Fewest tiles: the weight transform is paid on every call, so a single small image (49 tiles of
    /// 14×14) gains nothing over the implicit GEMM.
    /// </summary>
    private const int MinTiles = 192;

    /// <summary>Whether the forward pass of <paramref name="g"/> takes this path.</summary>
    internal static bool SupportsForward(in ConvGeometry g) => SupportsShape(g) && (long)g.Batch * TilesY(g) * TilesX(g) >= MinTiles;

    /// <summary>
    /// Whether this kernel can run <paramref name="g"/> at all: with weights transformed beforehand
    /// (<see cref="ForwardTransformed"/>) it also pays at batch 1.
    /// </summary>
    internal static bool SupportsShape(in ConvGeometry g)
        => ImplicitGemmConvKernel.IsAccelerated && g.Groups == 1 && g.KernelHeight == 5 && g.KernelWidth == 5
           && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
           && g.Channels >= MinChannels && g.OutChannels >= MinChannels && g.OutHeight > 0 && g.OutWidth > 0 && g.Batch > 0
           && PaddedImageFloats(g) < int.MaxValue && (long)g.Batch * g.OutChannels * g.OutArea < int.MaxValue;

    /// <summary>Whether the input gradient of <paramref name="g"/> takes this path (as a forward pass of the output gradient).</summary>
    internal static bool SupportsInputGrad(in ConvGeometry g)
        => g.KernelHeight == 5 && g.KernelWidth == 5 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
           && g.PadTop <= 4 && g.PadLeft <= 4 && g.Channels > 0 && SupportsForward(ImplicitGemmConvKernel.InputGradGeometry(g));

    /// <summary>
    /// output[N, O, OH, OW] = conv(input, weight) + bias[O] (null: none), every output element written;
    /// with <paramref name="relu"/>, max(0, ·) as the ReLU op computes it, applied as the outputs are stored.
    /// </summary>
    internal static void Forward(in ConvGeometry g, float* input, float* weight, float* bias, float* output, WorkerPool? pool, bool relu = false)
    {
        float* transformed = ConvScratch.Slot<float>(ConvScratchSlot.PackedWeights, TransformedWeightLength(g));
        TransformWeights(g, new WeightView(weight, (long)g.Channels * 25, 25, 5, 1), transformed, pool);
        Run(g, input, transformed, bias, output, pool, relu);
    }

    /// <summary>The forward pass with weights transformed beforehand by <see cref="TransformWeights(in ConvGeometry, float*, float*)"/> (a frozen graph's constant).</summary>
    internal static void ForwardTransformed(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, WorkerPool? pool, bool relu)
        => Run(g, input, transformed, bias, output, pool, relu);

    /// <summary>Floats of the transformed weights of <paramref name="g"/>: 36 points of [O/16, Cp, 16] panels.</summary>
    internal static long TransformedWeightLength(in ConvGeometry g)
        => (long)Points * ((g.OutChannels + NR - 1) / NR) * PaddedChannels(g.Channels) * NR;

    /// <summary>Transforms weight [O, C, 5, 5] into <paramref name="transformed"/> (<see cref="TransformedWeightLength"/> floats); it depends only on the weight's shape.</summary>
    internal static void TransformWeights(in ConvGeometry g, float* weight, float* transformed)
        => TransformWeights(g, new WeightView(weight, (long)g.Channels * 25, 25, 5, 1), transformed, null);

    /// <summary>gradInput[N, C, H, W] of a stride-1 5×5 convolution: the forward pass of grad with the flipped, transposed kernel.</summary>
    // Output channel c' of the flipped problem is input channel c of the original and reads its kernel back to front.
    internal static void InputGrad(in ConvGeometry g, float* grad, float* weight, float* gradInput, WorkerPool? pool)
    {
        var flipped = ImplicitGemmConvKernel.InputGradGeometry(g);
        float* transformed = ConvScratch.Slot<float>(ConvScratchSlot.PackedWeights, TransformedWeightLength(flipped));
        TransformWeights(flipped, new WeightView(weight + 24, 25, (long)g.Channels * 25, -5, -1), transformed, pool);
        Run(flipped, grad, transformed, null, gradInput, pool, relu: false);
    }

    /// <summary>Where tap (ky, kx) of output channel o and input channel c lies: At + o·Out + c·In + ky·Row + kx·Column.</summary>
    private readonly struct WeightView(float* at, long outStride, long inStride, int row, int column)
    {
        internal float* At => at;
        internal long Out => outStride;
        internal long In => inStride;
        internal int Row => row;
        internal int Column => column;
    }

    private static int TilesY(in ConvGeometry g) => (g.OutHeight + 1) / 2;
    private static int TilesX(in ConvGeometry g) => (g.OutWidth + 1) / 2;
    private static int PaddedChannels(int channels) => (channels + Lanes - 1) / Lanes * Lanes;
    private static long PaddedImageFloats(in ConvGeometry g) => (long)(2 * TilesY(g) + 4) * (2 * TilesX(g) + 4) * PaddedChannels(g.Channels);

    private static void TransformWeights(in ConvGeometry g, WeightView weight, float* transformed, WorkerPool? pool)
    {
        int cp = PaddedChannels(g.Channels), panels = (g.OutChannels + NR - 1) / NR;
        var job = new WeightJob(g, weight, transformed, cp, panels);
        if (pool is null) job.Run(0, cp);
        else pool.For(cp, 1, ref job);
    }

    /// <summary>
    /// Images spread over the pool; where there are fewer images than threads, each image's tiles are
    /// cut into equal runs that threads share (every tile is computed alone, so the bits are the same).
    /// </summary>
    private static void Run(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, WorkerPool? pool, bool relu)
    {
        int cp = PaddedChannels(g.Channels), panels = (g.OutChannels + NR - 1) / NR;
        int threads = pool?.ThreadCount ?? 1;
        int parts = g.Batch >= threads ? 1 : Math.Min(TilesY(g) * TilesX(g), (threads + g.Batch - 1) / g.Batch);
        var images = new ImageJob(g, input, transformed, cp, panels, bias, output, relu, parts);
        if (pool is null) images.Run(0, g.Batch * parts);
        else pool.For(g.Batch * parts, 1, ref images);
    }

    /// <summary>Tiles per block: their transformed inputs (36 × tiles × Cp floats) stay in the inner caches.</summary>
    private static int BlockTiles(int cp) => Math.Clamp(BlockInputFloats / (Points * cp) / MR * MR, MR, MaxBlockTiles);

    /// <summary>
    /// Images [start, end): each is copied zero-padded and channels-last into the thread's scratch
    /// (where it stays in cache for its transforms, unlike a padded copy of the whole batch), then its
    /// tiles run in blocks: transform the block's inputs, then for each 16-channel output panel
    /// multiply all 36 points and transform the products back into the output.
    /// </summary>
    private readonly struct ImageJob(ConvGeometry g, float* input, float* weights, int cp, int panels, float* bias, float* output, bool relu, int parts) : IWorkerJob
    {
        public void Run(int start, int end) => RunImages(g, input, weights, cp, panels, bias, output, relu, parts, start, end);
    }

    /// <summary>The per-thread body of <see cref="ImageJob"/>, kept out of the pool's job so its loops are compiled on their own.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunImages(ConvGeometry g, float* input, float* weights, int cp, int panels, float* bias, float* output, bool relu, int parts, int start, int end)
    {
        int tilesY = TilesY(g), tilesX = TilesX(g), hp = 2 * tilesY + 4, wp = 2 * tilesX + 4;
        int blockTiles = BlockTiles(cp);
        int outWidth = 2 * tilesX, outChannels = panels * NR;
        long paddedFloats = PaddedImageFloats(g), inputFloats = (long)Points * blockTiles * cp, productFloats = (long)Points * blockTiles * NR;
        long imageFloats = (long)2 * TilesY(g) * outWidth * outChannels;
        float* padded = ConvScratch.Get<float>(paddedFloats + inputFloats + productFloats + imageFloats);
        float* transformedInput = padded + paddedFloats, products = transformedInput + inputFloats, channelsLast = products + productFloats;
        for (int item = start; item < end; item++)
        {
            // Item = image n, part of its tiles [firstTile, endTile) (row-major).
            int n = item / parts, part = item - n * parts, imageTiles = tilesY * tilesX;
            int firstTile = (int)((long)imageTiles * part / parts), endTile = (int)((long)imageTiles * (part + 1) / parts);
            PadImage(input + (nint)n * g.Channels * g.InArea, g.Channels, g.Height, g.Width, g.PadTop, g.PadLeft, padded, hp, wp, cp);
            int tiles = endTile;
            for (int first = firstTile; first < tiles; first += blockTiles)
            {
                int count = Math.Min(blockTiles, tiles - first);
                for (int r = 0; r < count; r++)
                {
                    int ty = (first + r) / tilesX, tx = first + r - ty * tilesX;
                    TransformInput(padded + ((nint)2 * ty * wp + 2 * tx) * cp, wp * cp, cp, transformedInput + (nint)r * cp, (long)blockTiles * cp);
                }
                for (int panel = 0; panel < panels; panel++)
                {
                    for (int p = 0; p < Points; p++)
                    {
                        float* a = transformedInput + (long)p * blockTiles * cp;
                        float* b = weights + ((nint)p * panels + panel) * cp * NR;
                        float* c = products + (long)p * blockTiles * NR;
                        int r = 0;
                        for (; r + MR <= count; r += MR) Multiply(a + (nint)r * cp, cp, 1, b, NR, cp, c + (nint)r * NR, NR, accumulate: false);
                        for (; r < count; r++) MultiplyRow(a + (nint)r * cp, 1, b, NR, cp, c + (nint)r * NR, accumulate: false);
                    }
                    for (int r = 0; r < count; r++)
                    {
                        int ty = (first + r) / tilesX, tx = first + r - ty * tilesX;
                        float* at = channelsLast + ((nint)2 * ty * outWidth + 2 * tx) * outChannels + panel * NR;
                        TransformOutput(products + (nint)r * NR, (long)blockTiles * NR, bias, relu, panel * NR, g.OutChannels, at, (nint)outWidth * outChannels, outChannels);
                    }
                }
            }
            float* image = output + (nint)n * g.OutChannels * g.OutArea;
            for (int ty = firstTile / tilesX; ty * tilesX < endTile; ty++)
            {
                int from = Math.Max(firstTile - ty * tilesX, 0), to = Math.Min(endTile - ty * tilesX, tilesX);
                int rowEnd = Math.Min(g.OutHeight, 2 * ty + 2);
                if (from == 0 && to == tilesX) StoreImage(channelsLast, outWidth, outChannels, image, g.OutChannels, g.OutArea, g.OutWidth, 2 * ty, rowEnd);
                else StoreColumns(channelsLast, outWidth, outChannels, image, g.OutChannels, g.OutArea, g.OutWidth, 2 * ty, rowEnd, 2 * from, Math.Min(g.OutWidth, 2 * to));
            }
        }
    }

    /// <summary>
    /// Output columns [firstColumn, endColumn) of rows [firstRow, endRow) one value at a time: a row of
    /// tiles split between threads, where whole-row transposes would write the other thread's columns.
    /// </summary>
    private static void StoreColumns(float* channelsLast, int width, int channelStride, float* image, int channels, int area, int outWidth,
        int firstRow, int endRow, int firstColumn, int endColumn)
    {
        for (int o = 0; o < channels; o++)
        for (int y = firstRow; y < endRow; y++)
        for (int x = firstColumn; x < endColumn; x++)
            image[(nint)o * area + (nint)y * outWidth + x] = channelsLast[((nint)y * width + x) * channelStride + o];
    }

    /// <summary>
    /// Output rows [firstRow, endRow) of an image from channels-last [rows, width, channelStride] into
    /// NCHW planes [channels, area]: 8 positions × 8 channels per register transpose (the last columns by a transpose
    /// that overlaps the one before), so the tile transforms store whole vectors instead of scattering
    /// each value to its channel's plane.
    /// </summary>
    private static void StoreImage(float* channelsLast, int width, int channelStride, float* image, int channels, int area, int outWidth, int firstRow, int endRow)
    {
        for (int y = firstRow; y < endRow; y++)
        {
            float* from = channelsLast + (nint)y * width * channelStride;
            float* to = image + (nint)y * outWidth;
            int o = 0;
            for (; o + Lanes <= channels; o += Lanes)
            {
                int x = 0;
                for (; x + Lanes <= outWidth; x += Lanes)
                    ImplicitGemmConvKernel.Transpose8(from + (nint)x * channelStride + o, channelStride, to + (nint)o * area + x, area, Vector256<float>.Zero);
                if (x < outWidth && outWidth >= Lanes)
                {
                    ImplicitGemmConvKernel.Transpose8(from + (nint)(outWidth - Lanes) * channelStride + o, channelStride, to + (nint)o * area + outWidth - Lanes, area, Vector256<float>.Zero);
                    x = outWidth;
                }
                for (; x < outWidth; x++)
                for (int lane = 0; lane < Lanes; lane++)
                    to[(nint)(o + lane) * area + x] = from[(nint)x * channelStride + o + lane];
            }
            for (; o < channels; o++)
            for (int x = 0; x < outWidth; x++)
                to[(nint)o * area + x] = from[(nint)x * channelStride + o];
        }
    }

    /// <summary>
    /// One image [channels, height, width] as padded[hp, wp, cp], shifted by (padTop, padLeft): zeros
    /// outside the image and past the channels.
    /// </summary>
    private static void PadImage(float* input, int channels, int height, int width, int padTop, int padLeft, float* padded, int hp, int wp, int cp)
    {
        new Span<float>(padded, checked(hp * wp * cp)).Clear();
        int columns = Math.Min(width, wp - padLeft), plane = height * width;
        for (int row = Math.Max(0, padTop); row < Math.Min(hp, height + padTop); row++)
        {
            float* from = input + (nint)(row - padTop) * width;
            float* to = padded + ((nint)row * wp + padLeft) * cp;
            int c = 0;
            // 8 channels × 8 columns at a time move as one register transpose: 8 row loads, 8 position stores.
            for (; c + Lanes <= channels; c += Lanes)
            {
                float* rows = from + (nint)c * plane;
                int x = 0;
                for (; x + Lanes <= columns; x += Lanes)
                    ImplicitGemmConvKernel.Transpose8(rows + x, plane, to + (nint)x * cp + c, cp, Vector256<float>.Zero);
                // The last columns as one more transpose ending at the row's end, rewriting a few with the same values.
                if (x < columns && columns >= Lanes)
                {
                    ImplicitGemmConvKernel.Transpose8(rows + columns - Lanes, plane, to + (nint)(columns - Lanes) * cp + c, cp, Vector256<float>.Zero);
                    x = columns;
                }
                for (; x < columns; x++)
                for (int lane = 0; lane < Lanes; lane++)
                    to[(nint)x * cp + c + lane] = rows[(nint)lane * plane + x];
            }
            for (; c < channels; c++)
            {
                float* channelRow = from + (nint)c * plane;
                for (int x = 0; x < columns; x++) to[(nint)x * cp + c] = channelRow[x];
            }
        }
    }

    /// <summary>
    /// Input channels [start, end) of the transformed weights U = G g Gᵀ, 8 output channels per vector,
    /// stored as U[point, panel, c, 16]; channels past the end are zero.
    /// </summary>
    private readonly struct WeightJob(ConvGeometry g, WeightView w, float* transformed, int cp, int panels) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            float* taps = stackalloc float[25 * Lanes];
            var u = stackalloc Vector256<float>[Points];
            for (int c = start; c < end; c++)
            for (int o0 = 0; o0 < panels * NR; o0 += Lanes)
            {
                for (int lane = 0; lane < Lanes; lane++)
                {
                    int o = o0 + lane;
                    bool inside = o < g.OutChannels && c < g.Channels;
                    float* from = inside ? w.At + o * w.Out + c * w.In : null;
                    for (int ky = 0; ky < 5; ky++)
                    for (int kx = 0; kx < 5; kx++)
                        taps[(ky * 5 + kx) * Lanes + lane] = inside ? from[ky * w.Row + kx * w.Column] : 0f;
                }
                TransformWeights(taps, u);
                int panel = o0 / NR, half = o0 - panel * NR;
                for (int p = 0; p < Points; p++)
                    Vector256.Store(u[p], transformed + (((nint)p * panels + panel) * cp + c) * NR + half);
            }
        }
    }

    /// <summary>u[6i + j] = (G g Gᵀ)[i, j] for the 5×5 kernel g (taps[(ky·5 + kx)·8 + lane]) of 8 channel pairs at once.</summary>
    private static void TransformWeights(float* taps, Vector256<float>* u)
    {
        var columns = stackalloc Vector256<float>[Alpha * 5];
        for (int kx = 0; kx < 5; kx++)
        {
            float* t = taps + kx * Lanes;
            WeightRow(Vector256.Load(t), Vector256.Load(t + 5 * Lanes), Vector256.Load(t + 10 * Lanes), Vector256.Load(t + 15 * Lanes), Vector256.Load(t + 20 * Lanes),
                columns + kx, 5);
        }
        for (int i = 0; i < Alpha; i++)
        {
            var r = columns + i * 5;
            WeightRow(r[0], r[1], r[2], r[3], r[4], u + i * Alpha, 1);
        }
    }

    /// <summary>The 1-D weight transform G·(g0…g4), written to to[0], to[stride], … to[5·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightRow(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, Vector256<float> g3, Vector256<float> g4, Vector256<float>* to, int stride)
    {
        var even = g0 + g2 + g4;
        var odd = g1 + g3;
        var evenWeighted = Fma.MultiplyAdd(g0, Vector256.Create(1f / 24), Fma.MultiplyAdd(g2, Vector256.Create(1f / 6), g4 * Vector256.Create(2f / 3)));
        var oddWeighted = Fma.MultiplyAdd(g1, Vector256.Create(1f / 12), g3 * Vector256.Create(1f / 3));
        to[0] = g0 * Vector256.Create(0.25f);
        to[stride] = (even + odd) * Vector256.Create(1f / 6);
        to[2 * stride] = (even - odd) * Vector256.Create(1f / 6);
        to[3 * stride] = evenWeighted + oddWeighted;
        to[4 * stride] = evenWeighted - oddWeighted;
        to[5 * stride] = g4;
    }

    /// <summary>
    /// V = Bᵀ d B for the 6×6 window at <paramref name="window"/> (rows <paramref name="rowStride"/> apart,
    /// <paramref name="cp"/> channels per position), 8 channels at a time; point p goes to to[p·pointStride + c].
    /// </summary>
    private static void TransformInput(float* window, int rowStride, int cp, float* to, long pointStride)
    {
        var t = stackalloc Vector256<float>[Points];
        for (int c = 0; c < cp; c += Lanes)
        {
            float* d = window + c;
            for (int x = 0; x < Alpha; x++)
            {
                float* col = d + x * cp;
                InputRow(Vector256.Load(col), Vector256.Load(col + rowStride), Vector256.Load(col + 2 * rowStride), Vector256.Load(col + 3 * rowStride),
                    Vector256.Load(col + 4 * rowStride), Vector256.Load(col + 5 * rowStride), (float*)(t + x), Alpha * Lanes);
            }
            for (int i = 0; i < Alpha; i++)
            {
                var r = t + i * Alpha;
                InputRow(r[0], r[1], r[2], r[3], r[4], r[5], to + i * Alpha * pointStride + c, (nint)pointStride);
            }
        }
    }

    /// <summary>The 1-D input transform Bᵀ·(d0…d5), stored at to, to + stride, … to + 5·stride (floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5, float* to, nint stride)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(5f);
        var t1 = Fma.MultiplySubtract(four, d1, d3);
        var t2 = Fma.MultiplySubtract(four, d2, d4);
        var s1 = d3 - d1;
        var s2 = d4 - d2;
        Vector256.Store(Fma.MultiplyAdd(four, d0, Fma.MultiplyAddNegated(five, d2, d4)), to);
        Vector256.Store(t1 + t2, to + stride);
        Vector256.Store(t2 - t1, to + 2 * stride);
        Vector256.Store(s1 + s1 + s2, to + 3 * stride);
        Vector256.Store(s2 - s1 - s1, to + 4 * stride);
        Vector256.Store(Fma.MultiplyAdd(four, d1, Fma.MultiplyAddNegated(five, d3, d5)), to + 5 * stride);
    }

    /// <summary>
    /// c[6, 16] (+)= a[6 rows, depth] · b[depth, 16]: row r of a at a + r·aRow, step k at + k·aStep;
    /// b's step k at b + k·bStep; c's rows <paramref name="ldc"/> apart, added to when <paramref name="accumulate"/>.
    /// The forward pass multiplies tiles (rows Cp apart) by a packed weight panel; the weight gradient
    /// multiplies output channels (rows 1 apart, steps over tiles) by the tiles' input channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Multiply(float* a, nint aRow, nint aStep, float* b, nint bStep, int depth, float* c, nint ldc, bool accumulate)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        nint row3 = 3 * aRow, row5 = 5 * aRow;
        for (int k = 0; k < depth; k++, a += aStep, b += bStep)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var v = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(v, b0, c00);
            c01 = Fma.MultiplyAdd(v, b1, c01);
            v = Vector256.Create(a[aRow]);
            c10 = Fma.MultiplyAdd(v, b0, c10);
            c11 = Fma.MultiplyAdd(v, b1, c11);
            v = Vector256.Create(a[2 * aRow]);
            c20 = Fma.MultiplyAdd(v, b0, c20);
            c21 = Fma.MultiplyAdd(v, b1, c21);
            v = Vector256.Create(a[row3]);
            c30 = Fma.MultiplyAdd(v, b0, c30);
            c31 = Fma.MultiplyAdd(v, b1, c31);
            v = Vector256.Create(a[4 * aRow]);
            c40 = Fma.MultiplyAdd(v, b0, c40);
            c41 = Fma.MultiplyAdd(v, b1, c41);
            v = Vector256.Create(a[row5]);
            c50 = Fma.MultiplyAdd(v, b0, c50);
            c51 = Fma.MultiplyAdd(v, b1, c51);
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8);
        Vector256.Store(c10, c + ldc); Vector256.Store(c11, c + ldc + 8);
        Vector256.Store(c20, c + 2 * ldc); Vector256.Store(c21, c + 2 * ldc + 8);
        Vector256.Store(c30, c + 3 * ldc); Vector256.Store(c31, c + 3 * ldc + 8);
        Vector256.Store(c40, c + 4 * ldc); Vector256.Store(c41, c + 4 * ldc + 8);
        Vector256.Store(c50, c + 5 * ldc); Vector256.Store(c51, c + 5 * ldc + 8);
    }

    /// <summary>One row of <see cref="Multiply"/>: the rows past the last full group of 6.</summary>
    private static void MultiplyRow(float* a, nint aStep, float* b, nint bStep, int depth, float* c, bool accumulate)
    {
        var c0 = accumulate ? Vector256.Load(c) : Vector256<float>.Zero;
        var c1 = accumulate ? Vector256.Load(c + 8) : Vector256<float>.Zero;
        for (int k = 0; k < depth; k++, a += aStep, b += bStep)
        {
            var v = Vector256.Create(a[0]);
            c0 = Fma.MultiplyAdd(v, Vector256.Load(b), c0);
            c1 = Fma.MultiplyAdd(v, Vector256.Load(b + 8), c1);
        }
        Vector256.Store(c0, c);
        Vector256.Store(c1, c + 8);
    }

    /// <summary>
    /// Y = Aᵀ m A for one tile's products (point p at m[p·pointStride], 16 channels from <paramref name="o0"/>),
    /// plus bias (and ReLU), stored channels-last: output (dy, dx) of the tile at to + dy·rowStride + dx·positionStride.
    /// </summary>
    private static void TransformOutput(float* m, long pointStride, float* bias, bool relu, int o0, int channels, float* to, nint rowStride, nint positionStride)
    {
        var t = stackalloc Vector256<float>[2 * Alpha];
        for (int half = 0; half < NR && o0 + half < channels; half += Lanes)
        {
            float* mm = m + half;
            for (int x = 0; x < Alpha; x++)
            {
                float* col = mm + x * pointStride;
                var m0 = Vector256.Load(col);
                var m1 = Vector256.Load(col + Alpha * pointStride);
                var m2 = Vector256.Load(col + 2 * Alpha * pointStride);
                var m3 = Vector256.Load(col + 3 * Alpha * pointStride);
                var m4 = Vector256.Load(col + 4 * Alpha * pointStride);
                var m5 = Vector256.Load(col + 5 * Alpha * pointStride);
                t[x] = m0 + m1 + m2 + m3 + m4;
                t[Alpha + x] = Fma.MultiplyAdd(m3 - m4, Vector256.Create(2f), m1 - m2 + m5);
            }
            int o = o0 + half, lanes = Math.Min(Lanes, channels - o);
            var b = bias == null ? Vector256<float>.Zero : lanes == Lanes ? Vector256.Load(bias + o) : PartialBias(bias + o, lanes);
            for (int i = 0; i < 2; i++)
            {
                var r = t + i * Alpha;
                float* row = to + i * rowStride + half;
                var left = r[0] + r[1] + r[2] + r[3] + r[4] + b;
                var right = Fma.MultiplyAdd(r[3] - r[4], Vector256.Create(2f), r[1] - r[2] + r[5]) + b;
                if (relu)
                {
                    // x < 0 ? 0 : x, as the ReLU op computes it (−0 and NaN pass through, unlike max).
                    left = Vector256.ConditionalSelect(Vector256.LessThan(left, Vector256<float>.Zero), Vector256<float>.Zero, left);
                    right = Vector256.ConditionalSelect(Vector256.LessThan(right, Vector256<float>.Zero), Vector256<float>.Zero, right);
                }
                Vector256.Store(left, row);
                Vector256.Store(right, row + positionStride);
            }
        }
    }

    private static Vector256<float> PartialBias(float* bias, int lanes)
    {
        float* v = stackalloc float[Lanes];
        for (int i = 0; i < Lanes; i++) v[i] = i < lanes ? bias[i] : 0f;
        return Vector256.Load(v);
    }
}
