using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// float32 convolution as an implicit GEMM on AVX2+FMA: the unfolded (im2col) matrix is never built.
/// A 6×16 register tile holds 6 rows (output positions in the forward pass, kernel taps in the weight
/// gradient) times 16 output channels; each step broadcasts the 6 row values straight from a
/// zero-padded copy of the input (row offset + step offset) and multiplies them by 16 packed channel
/// values. Unfolding costs as much memory traffic as the multiply itself on a 5×5 layer (25 copies of
/// every input value, written and read back), so gathering in the microkernel instead is what lets a
/// convolution run near the GEMM microkernel's speed. The input gradient of a stride-1 convolution is
/// the forward pass of the output gradient with the kernel flipped and channels swapped, so it runs the
/// same loop.
/// <para>
/// Threads: the forward pass spreads chunks of output positions, the weight gradient ranges of kernel
/// taps; each output element is summed by one thread over the same fixed blocks of the inner dimension
/// (<see cref="Blocks"/> depends only on its length), so the bits do not depend on the thread count.
/// </para>
/// </summary>
internal static unsafe class ImplicitGemmConvKernel
{
    private const int MR = 6, NR = 16;

    /// <summary>Inner-dimension block: a 16-channel panel of it (16 KiB) stays in L1 while the row tiles sweep it.</summary>
    private const int KC = 256;

    /// <summary>Forward work item: 16 row tiles, 96 output positions.</summary>
    private const int ChunkTiles = 16;

    /// <summary>
    /// Shorter patches (a first layer's single channel: 25 taps) leave too few steps per tile to pay for
    /// writing the tile out; unfolding plus GEMM wins there.
    /// </summary>
    private const int MinPatch = 64;

    internal static bool IsAccelerated => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>Whether the forward pass (and so, for stride 1, the input gradient) takes this path.</summary>
    internal static bool SupportsForward(in ConvGeometry g)
        => IsAccelerated && !g.IsDepthwise && g.GroupOutChannels >= 8 && g.PatchSize >= MinPatch && g.Batch > 0 && g.OutArea > 0 && g.PatchSize > 0
           && PaddedElements(g) < int.MaxValue && (long)g.Batch * g.OutArea < int.MaxValue;

    /// <summary>The input gradient as a forward pass needs stride 1 and a non-negative flipped padding.</summary>
    internal static bool SupportsInputGrad(in ConvGeometry g)
        => g.StrideHeight == 1 && g.StrideWidth == 1 && g.Channels > 0
           && FlippedPadTop(g) >= 0 && FlippedPadLeft(g) >= 0 && SupportsForward(InputGradGeometry(g));

    internal static bool SupportsWeightGrad(in ConvGeometry g) => SupportsForward(g);

    /// <summary>output[N, O, OH, OW] = conv(input, weight) + bias[O] (null: none), every output element written.</summary>
    internal static void Forward(in ConvGeometry g, float* input, float* weight, float* bias, float* output, WorkerPool? pool)
    {
        int og = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(og, NR);
        var (hp, wp) = PaddedSize(g);
        float* xp = PadInput(g, input, hp, wp, pool);
        int* taps = TapOffsets(g, hp, wp, ConvScratchSlot.TapOffsets, padTo: 1);
        float* packed = ConvScratch.Slot<float>(ConvScratchSlot.PackedWeights, (long)g.Groups * panels * NR * k);
        for (int group = 0; group < g.Groups; group++)
            PackChannels(weight + (nint)group * og * k, og, k, k, packed + (nint)group * panels * NR * k, (long)k * NR);
        long positions = (long)g.Batch * g.OutArea;
        int chunks = (int)((positions + ChunkTiles * MR - 1) / (ChunkTiles * MR));
        var job = new ForwardJob(g, xp, hp, wp, taps, packed, bias, output);
        if (pool is null) job.Run(0, chunks);
        else pool.For(chunks, 1, ref job);
    }

    /// <summary>gradInput[N, C, H, W] for a stride-1 convolution: the forward pass of grad with the flipped, transposed kernel.</summary>
    internal static void InputGrad(in ConvGeometry g, float* grad, float* weight, float* gradInput, WorkerPool? pool)
    {
        int cg = g.GroupChannels, og = g.GroupOutChannels, kh = g.KernelHeight, kw = g.KernelWidth, area = g.KernelArea;
        float* flipped = ConvScratch.Slot<float>(ConvScratchSlot.FlippedWeights, (long)g.Channels * og * area);
        for (int group = 0; group < g.Groups; group++)
        for (int o = 0; o < og; o++)
        for (int c = 0; c < cg; c++)
        {
            float* from = weight + ((nint)(group * og + o) * cg + c) * area;
            float* to = flipped + ((nint)(group * cg + c) * og + o) * area;
            for (int t = 0; t < area; t++) to[area - 1 - t] = from[t];
        }
        Forward(InputGradGeometry(g), grad, flipped, null, gradInput, pool);
    }

    /// <summary>gradWeight[O, C/groups, kH, kW] = Σ over images and positions of grad · input window, every element written.</summary>
    internal static void WeightGrad(in ConvGeometry g, float* input, float* grad, float* gradWeight, WorkerPool? pool)
    {
        int og = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(og, NR), ldc = panels * NR;
        int positions = g.Batch * g.OutArea;
        var (hp, wp) = PaddedSize(g);
        float* xp = PadInput(g, input, hp, wp, pool);
        int* taps = TapOffsets(g, hp, wp, ConvScratchSlot.TapOffsets, padTo: MR);
        int* offsets = PositionOffsets(g, hp, wp, 0, positions, ConvScratchSlot.PositionOffsets);
        float* packed = ConvScratch.Slot<float>(ConvScratchSlot.PackedGrad, (long)panels * NR * positions);
        int tiles = Ceil(k, MR);
        float* sums = ConvScratch.Slot<float>(ConvScratchSlot.Accumulator, (long)tiles * MR * ldc);
        for (int group = 0; group < g.Groups; group++)
        {
            var pack = new PackGradJob(g, grad + (nint)group * og * g.OutArea, packed);
            if (pool is null) pack.Run(0, g.Batch);
            else pool.For(g.Batch, 4, ref pack);
            var job = new WeightGradJob(positions, ldc, xp + (nint)group * g.GroupChannels * hp * wp, taps, offsets, packed, sums);
            if (pool is null) job.Run(0, tiles);
            else pool.For(tiles, 4, ref job);
            float* dw = gradWeight + (nint)group * og * k;
            for (int o = 0; o < og; o++)
            for (int t = 0; t < k; t++)
                dw[(nint)o * k + t] = sums[(nint)t * ldc + o];
        }
    }

    /// <summary>The forward geometry whose output is the input gradient of <paramref name="g"/> (stride 1).</summary>
    private static ConvGeometry InputGradGeometry(in ConvGeometry g) => new(
        g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.Channels, g.Groups, g.KernelHeight, g.KernelWidth,
        1, 1, FlippedPadTop(g), FlippedPadLeft(g), g.DilationHeight, g.DilationWidth, g.Height, g.Width);

    private static int FlippedPadTop(in ConvGeometry g) => g.DilationHeight * (g.KernelHeight - 1) - g.PadTop;
    private static int FlippedPadLeft(in ConvGeometry g) => g.DilationWidth * (g.KernelWidth - 1) - g.PadLeft;

    /// <summary>Height and width of the zero-padded input: every tap of every output position lies inside it.</summary>
    private static (int Height, int Width) PaddedSize(in ConvGeometry g)
    {
        int hp = Math.Max(g.Height + g.PadTop, (g.OutHeight - 1) * g.StrideHeight + (g.KernelHeight - 1) * g.DilationHeight + 1);
        int wp = Math.Max(g.Width + g.PadLeft, (g.OutWidth - 1) * g.StrideWidth + (g.KernelWidth - 1) * g.DilationWidth + 1);
        return (hp, wp);
    }

    private static long PaddedElements(in ConvGeometry g)
    {
        var (hp, wp) = PaddedSize(g);
        return (long)g.Batch * g.Channels * hp * wp;
    }

    /// <summary>The input itself when it needs no padding, else a zero-bordered copy in scratch.</summary>
    private static float* PadInput(in ConvGeometry g, float* input, int hp, int wp, WorkerPool? pool)
    {
        if (g.PadTop == 0 && g.PadLeft == 0 && hp == g.Height && wp == g.Width) return input;
        int planes = g.Batch * g.Channels;
        float* padded = ConvScratch.Slot<float>(ConvScratchSlot.PaddedInput, (long)planes * hp * wp);
        var job = new PadJob(g, input, padded, hp, wp);
        if (pool is null) job.Run(0, planes);
        else pool.For(planes, 64, ref job);
        return padded;
    }

    /// <summary>Offset of kernel tap (c, ky, kx) from a window's corner in the padded input, padded to a multiple of <paramref name="padTo"/>.</summary>
    private static int* TapOffsets(in ConvGeometry g, int hp, int wp, ConvScratchSlot slot, int padTo)
    {
        int k = g.PatchSize, count = Ceil(k, padTo) * padTo;
        int* taps = ConvScratch.Slot<int>(slot, count);
        int t = 0;
        for (int c = 0; c < g.GroupChannels; c++)
        for (int ky = 0; ky < g.KernelHeight; ky++)
        for (int kx = 0; kx < g.KernelWidth; kx++)
            taps[t++] = c * hp * wp + ky * g.DilationHeight * wp + kx * g.DilationWidth;
        for (; t < count; t++) taps[t] = taps[k - 1];
        return taps;
    }

    /// <summary>Offset of the window corner of output positions [first, first + count) (image-major) in the padded input.</summary>
    private static int* PositionOffsets(in ConvGeometry g, int hp, int wp, int first, int count, ConvScratchSlot slot)
    {
        int* offsets = ConvScratch.Slot<int>(slot, count);
        FillPositionOffsets(g, hp, wp, first, count, offsets);
        return offsets;
    }

    private static void FillPositionOffsets(in ConvGeometry g, int hp, int wp, int first, int count, int* offsets)
    {
        int area = g.OutArea, imageSize = g.Channels * hp * wp;
        for (int i = 0; i < count; i++)
        {
            int q = first + i;
            int image = q / area, pos = q - image * area;
            int oy = pos / g.OutWidth, ox = pos - oy * g.OutWidth;
            offsets[i] = image * imageSize + oy * g.StrideHeight * wp + ox * g.StrideWidth;
        }
    }

    /// <summary>
    /// packed[panel·panelStride + t·16 + lane] = m[(panel·16 + lane)·rowStride + t] for t &lt; depth, zero
    /// for rows past the end: 16 output channels side by side for each step of the inner dimension.
    /// </summary>
    private static void PackChannels(float* m, int rows, int rowStride, int depth, float* packed, long panelStride)
    {
        int panels = Ceil(rows, NR);
        for (int panel = 0; panel < panels; panel++)
        {
            float* dest = packed + panel * panelStride;
            for (int lane = 0; lane < NR; lane++)
            {
                int row = panel * NR + lane;
                if (row < rows)
                {
                    float* src = m + (nint)row * rowStride;
                    for (int t = 0; t < depth; t++) dest[(nint)t * NR + lane] = src[t];
                }
                else
                {
                    for (int t = 0; t < depth; t++) dest[(nint)t * NR + lane] = 0f;
                }
            }
        }
    }

    /// <summary>Equal blocks of at most <see cref="KC"/> steps: the cut depends only on the length.</summary>
    private static int Blocks(int depth) => Ceil(depth, KC);

    private static int BlockStart(int depth, int blocks, int b) => (int)((long)depth * b / blocks);

    /// <summary>
    /// c[i·ldc + j] (+)= Σ_s src[rows[i] + steps[s]] · b[s·16 + j] for the 6×16 tile: the row values are
    /// broadcast straight from the padded input, 16 channels come from the packed panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int kc, float* src, int* rows, int* steps, float* b, float* c, int ldc, bool accumulate)
    {
        float* p0 = src + rows[0], p1 = src + rows[1], p2 = src + rows[2];
        float* p3 = src + rows[3], p4 = src + rows[4], p5 = src + rows[5];
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int s = 0; s < kc; s++)
        {
            nint off = steps[s];
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a = Vector256.Create(p0[off]);
            c00 = Fma.MultiplyAdd(a, b0, c00);
            c01 = Fma.MultiplyAdd(a, b1, c01);
            a = Vector256.Create(p1[off]);
            c10 = Fma.MultiplyAdd(a, b0, c10);
            c11 = Fma.MultiplyAdd(a, b1, c11);
            a = Vector256.Create(p2[off]);
            c20 = Fma.MultiplyAdd(a, b0, c20);
            c21 = Fma.MultiplyAdd(a, b1, c21);
            a = Vector256.Create(p3[off]);
            c30 = Fma.MultiplyAdd(a, b0, c30);
            c31 = Fma.MultiplyAdd(a, b1, c31);
            a = Vector256.Create(p4[off]);
            c40 = Fma.MultiplyAdd(a, b0, c40);
            c41 = Fma.MultiplyAdd(a, b1, c41);
            a = Vector256.Create(p5[off]);
            c50 = Fma.MultiplyAdd(a, b0, c50);
            c51 = Fma.MultiplyAdd(a, b1, c51);
            b += NR;
        }
        Update(c, c00, c01, accumulate);
        Update(c + ldc, c10, c11, accumulate);
        Update(c + 2 * ldc, c20, c21, accumulate);
        Update(c + 3 * ldc, c30, c31, accumulate);
        Update(c + 4 * ldc, c40, c41, accumulate);
        Update(c + 5 * ldc, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        v0.Store(c);
        v1.Store(c + 8);
    }

    /// <summary>Copies planes [start, end) of the input into the middle of zeroed padded planes.</summary>
    private readonly struct PadJob(ConvGeometry g, float* input, float* padded, int hp, int wp) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int h = g.Height, w = g.Width, top = g.PadTop, left = g.PadLeft;
            for (int plane = start; plane < end; plane++)
            {
                float* from = input + (nint)plane * h * w;
                float* to = padded + (nint)plane * hp * wp;
                new Span<float>(to, top * wp).Clear();
                for (int y = 0; y < h; y++)
                {
                    float* row = to + (nint)(top + y) * wp;
                    new Span<float>(row, left).Clear();
                    new ReadOnlySpan<float>(from + (nint)y * w, w).CopyTo(new Span<float>(row + left, w));
                    new Span<float>(row + left + w, wp - left - w).Clear();
                }
                new Span<float>(to + (nint)(top + h) * wp, (hp - top - h) * wp).Clear();
            }
        }
    }

    /// <summary>
    /// Chunks [start, end) of 96 output positions: each accumulates all channel panels over the tap
    /// blocks in its own buffer, then writes the positions out in NCHW order.
    /// </summary>
    private readonly struct ForwardJob(ConvGeometry g, float* xp, int hp, int wp, int* taps, float* packed, float* bias, float* output) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int og = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(og, NR), ldc = panels * NR, area = g.OutArea;
            int positions = g.Batch * area, chunkRows = ChunkTiles * MR;
            int* rows = ConvScratch.Slot<int>(ConvScratchSlot.ChunkOffsets, chunkRows);
            float* sums = ConvScratch.Slot<float>(ConvScratchSlot.ChunkAccumulator, (long)chunkRows * ldc);
            int blocks = Blocks(k);
            for (int chunk = start; chunk < end; chunk++)
            {
                int first = chunk * chunkRows, count = Math.Min(chunkRows, positions - first), tiles = Ceil(count, MR);
                FillPositionOffsets(g, hp, wp, first, count, rows);
                for (int i = count; i < tiles * MR; i++) rows[i] = rows[count - 1];
                for (int group = 0; group < g.Groups; group++)
                {
                    float* src = xp + (nint)group * g.GroupChannels * hp * wp;
                    float* groupPacked = packed + (nint)group * panels * NR * k;
                    for (int b = 0; b < blocks; b++)
                    {
                        int s0 = BlockStart(k, blocks, b), kc = BlockStart(k, blocks, b + 1) - s0;
                        for (int panel = 0; panel < panels; panel++)
                        {
                            float* bPanel = groupPacked + ((nint)panel * k + s0) * NR;
                            for (int tile = 0; tile < tiles; tile++)
                                Tile(kc, src, rows + tile * MR, taps + s0, bPanel, sums + (nint)tile * MR * ldc + panel * NR, ldc, b > 0);
                        }
                    }
                    Scatter(first, count, group, sums, ldc);
                }
            }
        }

        /// <summary>output[image, group·og + o, pos] = sums[row, o] (+ bias[group·og + o]) for the chunk's positions.</summary>
        private void Scatter(int first, int count, int group, float* sums, int ldc)
        {
            int og = g.GroupOutChannels, area = g.OutArea;
            int row = 0;
            while (row < count)
            {
                int q = first + row, image = q / area, pos = q - image * area;
                int run = Math.Min(count - row, area - pos);
                float* dest = output + ((nint)image * g.OutChannels + (nint)group * og) * area + pos;
                for (int o = 0; o < og; o++)
                {
                    float* d = dest + (nint)o * area;
                    float* s = sums + (nint)row * ldc + o;
                    float add = bias == null ? 0f : bias[group * og + o];
                    for (int i = 0; i < run; i++) d[i] = s[(nint)i * ldc] + add;
                }
                row += run;
            }
        }
    }

    /// <summary>packed[panel][q][lane] = grad[image, panel·16 + lane, pos] (q = image·area + pos) for images [start, end).</summary>
    private readonly struct PackGradJob(ConvGeometry g, float* grad, float* packed) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int area = g.OutArea;
            long positions = (long)g.Batch * area;
            for (int image = start; image < end; image++)
                PackChannels(grad + (nint)image * g.OutChannels * area, g.GroupOutChannels, area, area,
                    packed + (long)image * area * NR, positions * NR);
        }
    }

    /// <summary>Tap tiles [start, end): sums[t, o] = Σ over every position block, in order, of input window · grad.</summary>
    private readonly struct WeightGradJob(int positions, int ldc, float* src, int* taps, int* offsets, float* packed, float* sums) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int panels = ldc / NR, blocks = Blocks(positions);
            for (int b = 0; b < blocks; b++)
            {
                int q0 = BlockStart(positions, blocks, b), kc = BlockStart(positions, blocks, b + 1) - q0;
                for (int panel = 0; panel < panels; panel++)
                {
                    float* bPanel = packed + ((nint)panel * positions + q0) * NR;
                    for (int tile = start; tile < end; tile++)
                        Tile(kc, src, taps + tile * MR, offsets + q0, bPanel, sums + (nint)tile * MR * ldc + panel * NR, ldc, b > 0);
                }
            }
        }
    }

    private static int Ceil(int x, int y) => (x + y - 1) / y;
}
