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
/// Padding rows are skipped, not multiplied: taps run kernel row first (ky, c, kx), so the taps of the
/// kernel rows that land inside the image for the output rows of a tile of positions are one contiguous
/// range. Forward tiles stay inside one image and run only that range (a 5×5 'same' layer on 14×14 does
/// 6% fewer multiplies), and the weight gradient sums each kernel row's taps only over the output rows
/// where it lands inside the image (9% fewer).
/// </para>
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

    /// <summary>Most row tiles in a forward work item (96 output positions).</summary>
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
        => Forward(g, input, weight, bias, output, pool, relu: false);

    /// <summary>The forward pass, with <paramref name="relu"/>: max(0, ·) applied as each tile is stored (ReLU's bits: x &lt; 0 ? 0 : x).</summary>
    internal static void Forward(in ConvGeometry g, float* input, float* weight, float* bias, float* output, WorkerPool? pool, bool relu)
    {
        float* packed = ConvScratch.Slot<float>(ConvScratchSlot.PackedWeights, PackedWeightLength(g));
        PackWeights(g, weight, packed);
        ForwardPacked(g, input, packed, bias, output, pool, relu);
    }

    /// <summary>Floats of the packed weights of every group (<see cref="PackWeights(in ConvGeometry, float*, float*)"/>): they depend only on the weight's shape and the groups.</summary>
    internal static long PackedWeightLength(in ConvGeometry g) => (long)g.Groups * Ceil(g.GroupOutChannels, NR) * NR * g.PatchSize;

    /// <summary>Packs the weight [O, C/groups, kH, kW] of every group into the microkernel's panels, <see cref="PackedWeightLength"/> floats.</summary>
    internal static void PackWeights(in ConvGeometry g, float* weight, float* packed)
    {
        int og = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(og, NR);
        for (int group = 0; group < g.Groups; group++)
            PackGroupWeights(g, weight + (nint)group * og * k, packed + (nint)group * panels * NR * k);
    }

    /// <summary>
    /// The forward pass on weights packed beforehand by <see cref="PackWeights(in ConvGeometry, float*, float*)"/>
    /// (a frozen graph packs them once): the same tiles and sums as <see cref="Forward(in ConvGeometry, float*, float*, float*, float*, WorkerPool?)"/>, so the same bits.
    /// </summary>
    internal static void ForwardPacked(in ConvGeometry g, float* input, float* packed, float* bias, float* output, WorkerPool? pool, bool relu)
    {
        var (hp, wp) = PaddedSize(g);
        float* xp = PadInput(g, input, hp, wp, pool);
        int* taps = TapOffsets(g, hp, wp);
        int tiles = Ceil(g.OutArea, MR), perImage = ChunksPerImage(g.Batch, tiles, pool?.ThreadCount ?? 1);
        int* ranges = TileStepRanges(g, tiles);
        var job = new ForwardJob(g, xp, hp, wp, taps, packed, ranges, perImage, bias, output, relu);
        int count = g.Batch * perImage;
        if (pool is null) job.Run(0, count);
        else pool.For(count, 1, ref job);
    }

    /// <summary>
    /// Work items per image: runs of at most <see cref="ChunkTiles"/> row tiles, or, where a small batch
    /// gives too few items to share evenly (one 14×14 image is 3 items: 1 + 2 on two threads), more and
    /// shorter runs, so that the items split into equal shares per thread. An item's outputs do not depend
    /// on where the runs are cut, so neither do the bits.
    /// </summary>
    internal static int ChunksPerImage(int batch, int tiles, int threads)
    {
        int perImage = Ceil(tiles, ChunkTiles);
        if (threads <= 1 || (long)batch * perImage >= 8L * threads) return perImage;
        for (int candidate = perImage; candidate <= Math.Min(tiles, perImage * threads); candidate++)
            if (batch * candidate % threads == 0) return candidate;
        return perImage;
    }

    /// <summary>gradInput[N, C, H, W] for a stride-1 convolution: the forward pass of grad with the flipped, transposed kernel.</summary>
    internal static void InputGrad(in ConvGeometry g, float* grad, float* weight, float* gradInput, WorkerPool? pool)
    {
        int cg = g.GroupChannels, og = g.GroupOutChannels, area = g.KernelArea;
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
        int positions = g.Batch * g.OutArea, rowTaps = g.GroupChannels * g.KernelWidth, rowTiles = Ceil(rowTaps, MR);
        int tiles = g.KernelHeight * rowTiles;
        var (hp, wp) = PaddedSize(g);
        float* xp = PadInput(g, input, hp, wp, pool);
        int* taps = TapOffsets(g, hp, wp);
        int* tileTaps = ConvScratch.Slot<int>(ConvScratchSlot.TileTaps, (long)tiles * MR);
        for (int ky = 0; ky < g.KernelHeight; ky++)
        for (int i = 0; i < rowTiles * MR; i++)
            tileTaps[ky * rowTiles * MR + i] = taps[ky * rowTaps + Math.Min(i, rowTaps - 1)];
        int* offsets = PositionOffsets(g, hp, wp, 0, positions, ConvScratchSlot.PositionOffsets);
        float* packed = ConvScratch.Slot<float>(ConvScratchSlot.PackedGrad, (long)panels * NR * positions);
        float* sums = ConvScratch.Slot<float>(ConvScratchSlot.Accumulator, (long)tiles * MR * ldc);
        int* rowRanges = ConvScratch.Slot<int>(ConvScratchSlot.RowRanges, 2L * g.KernelHeight);
        for (int ky = 0; ky < g.KernelHeight; ky++)
        {
            var (first, end) = OutRowsInside(g, ky);
            rowRanges[2 * ky] = first;
            rowRanges[2 * ky + 1] = end;
        }
        for (int group = 0; group < g.Groups; group++)
        {
            var pack = new PackGradJob(g, grad + (nint)group * og * g.OutArea, packed);
            if (pool is null) pack.Run(0, g.Batch);
            else pool.For(g.Batch, 4, ref pack);
            var job = new WeightGradJob(g, ldc, rowTiles, xp + (nint)group * g.GroupChannels * hp * wp, tileTaps, rowRanges, offsets, packed, sums);
            if (pool is null) job.Run(0, tiles);
            else pool.For(tiles, 4, ref job);
            float* dw = gradWeight + (nint)group * og * k;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int c = 0; c < g.GroupChannels; c++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                float* row = sums + (nint)(ky * rowTiles * MR + c * g.KernelWidth + kx) * ldc;
                nint t = ((nint)c * g.KernelHeight + ky) * g.KernelWidth + kx;
                for (int o = 0; o < og; o++) dw[(nint)o * k + t] = row[o];
            }
        }
    }

    /// <summary>The forward geometry whose output is the input gradient of <paramref name="g"/> (stride 1).</summary>
    internal static ConvGeometry InputGradGeometry(in ConvGeometry g) => new(
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

    /// <summary>Offset of each kernel tap from a window's corner in the padded input, kernel row first: step s = (ky·C/groups + c)·kW + kx.</summary>
    private static int* TapOffsets(in ConvGeometry g, int hp, int wp)
    {
        int* taps = ConvScratch.Slot<int>(ConvScratchSlot.TapOffsets, g.PatchSize);
        int t = 0;
        for (int ky = 0; ky < g.KernelHeight; ky++)
        for (int c = 0; c < g.GroupChannels; c++)
        for (int kx = 0; kx < g.KernelWidth; kx++)
            taps[t++] = c * hp * wp + ky * g.DilationHeight * wp + kx * g.DilationWidth;
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

    /// <summary>The kernel rows [first, end) that land inside the image (not in padding) for output row <paramref name="oy"/>.</summary>
    private static (int First, int End) KernelRowsInside(in ConvGeometry g, int oy)
    {
        int first = 0, end = 0;
        for (int ky = 0; ky < g.KernelHeight; ky++)
        {
            int row = oy * g.StrideHeight + ky * g.DilationHeight - g.PadTop;
            if (row < 0) first = ky + 1;
            else if (row < g.Height) end = ky + 1;
        }
        return first < end ? (first, end) : (0, 0);
    }

    /// <summary>The output rows [first, end) for which kernel row <paramref name="ky"/> lands inside the image.</summary>
    private static (int First, int End) OutRowsInside(in ConvGeometry g, int ky)
    {
        var (first, end) = ConvGeometry.ValidRange(ky * g.DilationHeight - g.PadTop, g.StrideHeight, g.Height, g.OutHeight);
        return (first, end);
    }

    /// <summary>
    /// The tap steps [first, end) of each row tile of one image (the same for every image), 2 ints each:
    /// the kernel rows inside the image for any of the tile's output rows. Empty for a tile that only
    /// sees padding.
    /// </summary>
    private static int* TileStepRanges(in ConvGeometry g, int tiles)
    {
        int* ranges = ConvScratch.Slot<int>(ConvScratchSlot.TileStepRanges, 2L * tiles);
        int rowTaps = g.GroupChannels * g.KernelWidth, ow = g.OutWidth, area = g.OutArea;
        for (int t = 0; t < tiles; t++)
        {
            int lo = int.MaxValue, hi = 0;
            int firstRow = t * MR / ow, lastRow = (Math.Min((t + 1) * MR, area) - 1) / ow;
            for (int oy = firstRow; oy <= lastRow; oy++)
            {
                var (first, end) = KernelRowsInside(g, oy);
                if (first >= end) continue;
                lo = Math.Min(lo, first);
                hi = Math.Max(hi, end);
            }
            ranges[2 * t] = hi > 0 ? lo * rowTaps : 0;
            ranges[2 * t + 1] = hi > 0 ? hi * rowTaps : 0;
        }
        return ranges;
    }

    /// <summary>
    /// packed[panel·k·16 + s·16 + lane] = w[(panel·16 + lane)·k + tap(s)] for the kernel-row-first step s,
    /// zero for channels past the end: 16 output channels side by side for each tap. The channels are
    /// transposed in the weight's own tap order (c, ky, kx) by 8×8 register blocks, then, where the orders
    /// differ, the runs of kW taps are moved to their (ky, c, kx) place.
    /// </summary>
    private static void PackGroupWeights(in ConvGeometry g, float* w, float* packed)
    {
        int rows = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(rows, NR), kh = g.KernelHeight, kw = g.KernelWidth, cg = g.GroupChannels;
        if (kh == 1 || cg == 1)
        {
            PackChannels(w, rows, k, k, packed, (long)k * NR);
            return;
        }
        float* sourceOrder = ConvScratch.Slot<float>(ConvScratchSlot.WeightsSourceOrder, (long)panels * k * NR);
        PackChannels(w, rows, k, k, sourceOrder, (long)k * NR);
        int run = kw * NR;
        for (int panel = 0; panel < panels; panel++)
        {
            float* from = sourceOrder + (nint)panel * k * NR, to = packed + (nint)panel * k * NR;
            for (int ky = 0; ky < kh; ky++)
            for (int c = 0; c < cg; c++)
                new ReadOnlySpan<float>(from + (nint)(c * kh + ky) * run, run).CopyTo(new Span<float>(to + (nint)(ky * cg + c) * run, run));
        }
    }

    /// <summary>
    /// packed[panel·panelStride + t·16 + lane] = m[(panel·16 + lane)·rowStride + t] for t &lt; depth, zero
    /// for rows past the end: 16 output channels side by side for each step of the inner dimension.
    /// Full groups of 8 rows and 8 steps move as 8×8 register transposes.
    /// </summary>
    private static void PackChannels(float* m, int rows, int rowStride, int depth, float* packed, long panelStride)
    {
        int panels = Ceil(rows, NR);
        for (int panel = 0; panel < panels; panel++)
        {
            float* dest = packed + panel * panelStride;
            for (int half = 0; half < NR; half += 8)
            {
                int row0 = panel * NR + half, t = 0;
                if (row0 + 8 <= rows)
                {
                    float* src = m + (nint)row0 * rowStride;
                    for (; t + 8 <= depth; t += 8)
                        Transpose8(src + t, rowStride, dest + (nint)t * NR + half, NR, Vector256<float>.Zero);
                }
                for (int lane = half; lane < half + 8; lane++)
                {
                    int row = panel * NR + lane;
                    if (row < rows)
                    {
                        float* src = m + (nint)row * rowStride;
                        for (int u = t; u < depth; u++) dest[(nint)u * NR + lane] = src[u];
                    }
                    else
                    {
                        for (int u = t; u < depth; u++) dest[(nint)u * NR + lane] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Equal blocks of at most <see cref="KC"/> steps: the cut depends only on the length.</summary>
    private static int Blocks(int depth) => Ceil(depth, KC);

    private static int BlockStart(int depth, int blocks, int b) => (int)((long)depth * b / blocks);

    /// <summary>
    /// c[i·ldc + j] (+)= Σ_s src[rows[i] + steps[s]] · b[s·16 + j] for the 6×16 tile: the row values are
    /// broadcast straight from the padded input, 16 channels come from the packed panel. With
    /// <paramref name="reps"/> &gt; 1 the sum also runs over the same range <paramref name="repStride"/>
    /// steps further on, again and again (one range per image), before the tile is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int kc, float* src, int* rows, int* steps, float* b, float* c, int ldc, bool accumulate, int reps = 1, nint repStride = 0)
    {
        float* p0 = src + rows[0], p1 = src + rows[1], p2 = src + rows[2];
        float* p3 = src + rows[3], p4 = src + rows[4], p5 = src + rows[5];
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int r = 0; r < reps; r++, steps += repStride, b += (repStride - kc) * NR)
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

    /// <summary>
    /// dest[j·stride + i] = s[i·ldc + j] + add[j] for i, j &lt; 8: one 8×8 block of the accumulator,
    /// transposed in registers so it leaves as eight row stores instead of 64 scattered ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8(float* s, int ldc, float* dest, nint stride, Vector256<float> add)
        => Transpose8(s, ldc, dest, stride, add, relu: false);

    /// <summary>As <see cref="Transpose8(float*, int, float*, nint, Vector256{float})"/>, each row passed through ReLU (x &lt; 0 ? 0 : x) when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(float* s, int ldc, float* dest, nint stride, Vector256<float> add, bool relu)
    {
        var r0 = Vector256.Load(s);
        var r1 = Vector256.Load(s + ldc);
        var r2 = Vector256.Load(s + 2 * ldc);
        var r3 = Vector256.Load(s + 3 * ldc);
        var r4 = Vector256.Load(s + 4 * ldc);
        var r5 = Vector256.Load(s + 5 * ldc);
        var r6 = Vector256.Load(s + 6 * ldc);
        var r7 = Vector256.Load(s + 7 * ldc);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Store(Avx.Permute2x128(u0, u4, 0x20) + Vector256.Create(add.GetElement(0)), dest, relu);
        Store(Avx.Permute2x128(u1, u5, 0x20) + Vector256.Create(add.GetElement(1)), dest + stride, relu);
        Store(Avx.Permute2x128(u2, u6, 0x20) + Vector256.Create(add.GetElement(2)), dest + 2 * stride, relu);
        Store(Avx.Permute2x128(u3, u7, 0x20) + Vector256.Create(add.GetElement(3)), dest + 3 * stride, relu);
        Store(Avx.Permute2x128(u0, u4, 0x31) + Vector256.Create(add.GetElement(4)), dest + 4 * stride, relu);
        Store(Avx.Permute2x128(u1, u5, 0x31) + Vector256.Create(add.GetElement(5)), dest + 5 * stride, relu);
        Store(Avx.Permute2x128(u2, u6, 0x31) + Vector256.Create(add.GetElement(6)), dest + 6 * stride, relu);
        Store(Avx.Permute2x128(u3, u7, 0x31) + Vector256.Create(add.GetElement(7)), dest + 7 * stride, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> v, float* dest, bool relu)
    {
        if (relu) v = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v);
        v.Store(dest);
    }

    private static float Relu(float x, bool relu) => relu && x < 0f ? 0f : x;

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
    /// Work items [start, end): item i is chunk i % perImage (equal runs of at most <see cref="ChunkTiles"/>
    /// row tiles) of image i / perImage. Each accumulates all channel panels of its positions over the
    /// fixed tap blocks, each tile only over its own step range, in the thread's own buffer, then writes
    /// them out in NCHW order.
    /// </summary>
    private readonly struct ForwardJob(ConvGeometry g, float* xp, int hp, int wp, int* taps, float* packed, int* ranges, int perImage, float* bias, float* output, bool relu)
        : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int og = g.GroupOutChannels, k = g.PatchSize, panels = Ceil(og, NR), ldc = panels * NR, area = g.OutArea;
            int chunkRows = ChunkTiles * MR, imageTiles = Ceil(area, MR), blocks = Blocks(k);
            int* rows = ConvScratch.Slot<int>(ConvScratchSlot.ChunkOffsets, chunkRows);
            float* sums = ConvScratch.Slot<float>(ConvScratchSlot.ChunkAccumulator, (long)chunkRows * ldc);
            for (int item = start; item < end; item++)
            {
                int image = item / perImage, chunk = item - image * perImage;
                int t0 = (int)((long)imageTiles * chunk / perImage), t1 = (int)((long)imageTiles * (chunk + 1) / perImage);
                int pos = t0 * MR, count = Math.Min(t1 * MR, area) - pos, tiles = t1 - t0;
                FillPositionOffsets(g, hp, wp, image * area + pos, count, rows);
                for (int i = count; i < tiles * MR; i++) rows[i] = rows[count - 1];
                for (int group = 0; group < g.Groups; group++)
                {
                    float* src = xp + (nint)group * g.GroupChannels * hp * wp;
                    float* groupPacked = packed + (nint)group * panels * NR * k;
                    for (int b = 0; b < blocks; b++)
                    {
                        int bs = BlockStart(k, blocks, b), be = BlockStart(k, blocks, b + 1);
                        for (int panel = 0; panel < panels; panel++)
                        {
                            float* bPanel = groupPacked + (nint)panel * k * NR;
                            for (int tile = 0; tile < tiles; tile++)
                            {
                                int lo = ranges[2 * (t0 + tile)], hi = ranges[2 * (t0 + tile) + 1];
                                int from = Math.Max(bs, lo), to = Math.Min(be, hi);
                                float* c = sums + (nint)tile * MR * ldc + panel * NR;
                                if (to > from) Tile(to - from, src, rows + tile * MR, taps + from, bPanel + (nint)from * NR, c, ldc, from > lo);
                                else if (b == 0 && hi <= lo) Tile(0, src, rows + tile * MR, taps, bPanel, c, ldc, false);
                            }
                        }
                    }
                    float* dest = output + ((nint)image * g.OutChannels + (nint)group * og) * area + pos;
                    Scatter(sums, ldc, count, dest, bias == null ? null : bias + group * og);
                }
            }
        }

        /// <summary>dest[o·area + i] = sums[i·ldc + o] (+ bias[o]), through ReLU when asked, for the item's positions i and the group's channels o.</summary>
        private void Scatter(float* sums, int ldc, int count, float* dest, float* groupBias)
        {
            int og = g.GroupOutChannels, area = g.OutArea, o = 0;
            for (; o + 8 <= og; o += 8)
            {
                var add = groupBias == null ? Vector256<float>.Zero : Vector256.Load(groupBias + o);
                int i = 0;
                for (; i + 8 <= count; i += 8)
                    Transpose8(sums + (nint)i * ldc + o, ldc, dest + (nint)o * area + i, area, add, relu);
                for (int j = 0; j < 8; j++)
                {
                    float* d = dest + (nint)(o + j) * area;
                    float* s = sums + o + j;
                    float b = add.GetElement(j);
                    for (int r = i; r < count; r++) d[r] = Relu(s[(nint)r * ldc] + b, relu);
                }
            }
            for (; o < og; o++)
            {
                float* d = dest + (nint)o * area;
                float* s = sums + o;
                float b = groupBias == null ? 0f : groupBias[o];
                for (int r = 0; r < count; r++) d[r] = Relu(s[(nint)r * ldc] + b, relu);
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

    /// <summary>
    /// Tap tiles [start, end) (kernel row ky = tile / rowTiles): sums[t, o] = Σ over every image and row
    /// block, in order, of input window · grad, over only the output rows where row ky lands inside the image.
    /// </summary>
    private readonly struct WeightGradJob(ConvGeometry g, int ldc, int rowTiles, float* src, int* tileTaps, int* rowRanges, int* offsets, float* packed, float* sums)
        : IWorkerJob
    {
        public void Run(int start, int end)
        {
            int panels = ldc / NR, ow = g.OutWidth, area = g.OutArea, positions = g.Batch * area;
            // Blocks of whole images where an image is short (summed in one tile call), else of output rows.
            int blockImages = Math.Max(1, 2 * KC / area), blockRows = area >= 2 * KC ? Math.Clamp(KC / Math.Max(ow, 1), 1, g.OutHeight) : g.OutHeight;
            for (int image = 0; image < g.Batch; image += blockImages)
            for (int r0 = 0; r0 < g.OutHeight; r0 += blockRows)
            {
                int images = Math.Min(blockImages, g.Batch - image), r1 = Math.Min(g.OutHeight, r0 + blockRows);
                bool first = image == 0 && r0 == 0;
                for (int panel = 0; panel < panels; panel++)
                {
                    float* bPanel = packed + (nint)panel * positions * NR;
                    for (int tile = start; tile < end; tile++)
                    {
                        int ky = tile / rowTiles;
                        int a = Math.Max(r0, rowRanges[2 * ky]), z = Math.Min(r1, rowRanges[2 * ky + 1]);
                        if (z <= a && !first) continue;
                        int q0 = image * area + a * ow, kc = Math.Max(z - a, 0) * ow;
                        Tile(kc, src, tileTaps + tile * MR, offsets + q0, bPanel + (nint)q0 * NR, sums + (nint)tile * MR * ldc + panel * NR, ldc, !first,
                            images, area);
                    }
                }
            }
        }
    }

    private static int Ceil(int x, int y) => (x + y - 1) / y;
}
