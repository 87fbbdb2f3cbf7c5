using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The weight gradient by Winograd's F(5×5, 2×2): each 2×2 tile of the output gradient, correlated
/// with its 6×6 input window, adds a 5×5 piece to every kernel; with the same six points as the forward
/// pass that piece is A′ᵀ[(G′ dy G′ᵀ) ⊙ (Bᵀ d B)]A′, and since A′ is linear the sum over all tiles and
/// images can be taken before it: for each of the 36 points, S[p] = Σ over tiles of
/// (transformed grad)[p]ᵀ·(transformed input)[p], a [O, C] GEMM whose inner dimension is the tiles,
/// then one output transform per kernel. 36 multiplies per tile and channel pair instead of 100.
/// <para>
/// The input windows are transformed with the forward pass's Bᵀ (the same points and scaling), so
/// G′ rows are [1,0]/4, [1,1]/6, [1,−1]/6, [1,2]/24, [1,−2]/24, [0,1] and A′ᵀ rows are
/// [1,1,1,1,1,0], [0,1,−1,2,−2,0], [0,1,1,4,4,0], [0,1,−1,8,−8,0], [0,1,1,16,16,1].
/// </para>
/// <para>
/// Threads: the batch is cut into at most <see cref="ConvKernel.ReductionChunks"/> fixed runs of
/// images; each run sums its images into its own S in image and tile order, and the runs' S are added
/// in run order, so the bits depend only on the batch size.
/// </para>
/// </summary>
internal static unsafe partial class WinogradConvKernel
{
    /// <summary>Tiles per block of the weight gradient: the inner dimension of each point's product between reloads of S.</summary>
    private const int WeightGradBlockTiles = 32;

    /// <summary>Most bytes of per-run sums: wide layers (512 channels each way: 300 MB) stay on the implicit GEMM.</summary>
    private const long MaxPartialBytes = 64L << 20;

    internal static bool SupportsWeightGrad(in ConvGeometry g)
        => SupportsForward(g)
           && (long)Math.Min(g.Batch, ConvKernel.ReductionChunks) * Points * PaddedChannels(g.OutChannels) * ((g.Channels + NR - 1) / NR * NR) * sizeof(float) <= MaxPartialBytes;

    /// <summary>gradWeight[O, C, 5, 5] = Σ over images and positions of grad · input window, every element written.</summary>
    internal static void WeightGrad(in ConvGeometry g, float* input, float* grad, float* gradWeight, WorkerPool? pool)
    {
        int cp = (g.Channels + NR - 1) / NR * NR, op = PaddedChannels(g.OutChannels);
        int chunks = Math.Min(g.Batch, ConvKernel.ReductionChunks);
        long sums = (long)Points * op * cp;
        float* partials = ConvScratch.Partials<float>(chunks * sums);
        var job = new WeightGradJob(g, input, grad, partials, chunks, cp, op);
        if (pool is null) job.Run(0, chunks);
        else pool.For(chunks, 1, ref job);
        var total = new Span<float>(partials, checked((int)sums));
        for (int chunk = 1; chunk < chunks; chunk++)
            TensorPrimitives.Add(total, new ReadOnlySpan<float>(partials + chunk * sums, (int)sums), total);
        TransformWeightGrad(g, partials, cp, op, gradWeight);
    }

    private readonly struct WeightGradJob(ConvGeometry g, float* input, float* grad, float* partials, int chunks, int cp, int op) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int chunk = start; chunk < end; chunk++)
            {
                int first = (int)((long)g.Batch * chunk / chunks), last = (int)((long)g.Batch * (chunk + 1) / chunks);
                SumWeightGrad(g, input, grad, partials + chunk * (long)Points * op * cp, cp, op, first, last);
            }
        }
    }

    /// <summary>S[p, o, c] = Σ over images [first, last) and their tiles of G′dyG′ᵀ[p, o] · BᵀdB[p, c], in image and tile order.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SumWeightGrad(ConvGeometry g, float* input, float* grad, float* sums, int cp, int op, int first, int last)
    {
        int tilesY = TilesY(g), tilesX = TilesX(g), tiles = tilesY * tilesX, hp = 2 * tilesY + 4, wp = 2 * tilesX + 4;
        // Equal blocks of at most WeightGradBlockTiles: a short last block would reload all of S for a few tiles.
        int blocks = (tiles + WeightGradBlockTiles - 1) / WeightGradBlockTiles, block = (tiles + blocks - 1) / blocks;
        long paddedFloats = (long)hp * wp * cp, gradFloats = (long)tiles * 4 * op;
        long inputFloats = (long)Points * block * cp, transformedGradFloats = (long)Points * block * op;
        float* padded = ConvScratch.Get<float>(paddedFloats + gradFloats + inputFloats + transformedGradFloats);
        float* paddedGrad = padded + paddedFloats, transformedInput = paddedGrad + gradFloats, transformedGrad = transformedInput + inputFloats;
        new Span<float>(sums, checked(Points * op * cp)).Clear();
        int rowGroups = g.OutChannels / MR * MR, panels = cp / NR;
        for (int n = first; n < last; n++)
        {
            PadImage(input + (nint)n * g.Channels * g.InArea, g.Channels, g.Height, g.Width, g.PadTop, g.PadLeft, padded, hp, wp, cp);
            // The output gradient channels-last over whole tiles: positions past the output's edge are zero.
            PadImage(grad + (nint)n * g.OutChannels * g.OutArea, g.OutChannels, g.OutHeight, g.OutWidth, 0, 0, paddedGrad, 2 * tilesY, 2 * tilesX, op);
            for (int start = 0; start < tiles; start += block)
            {
                int count = Math.Min(block, tiles - start);
                for (int r = 0; r < count; r++)
                {
                    int ty = (start + r) / tilesX, tx = start + r - ty * tilesX;
                    TransformInput(padded + ((nint)2 * ty * wp + 2 * tx) * cp, wp * cp, cp, transformedInput + (nint)r * cp, (long)block * cp);
                    TransformGradTile(paddedGrad + ((nint)2 * ty * 2 * tilesX + 2 * tx) * op, 2 * tilesX * op, op, transformedGrad + (nint)r * op, (long)block * op);
                }
                for (int p = 0; p < Points; p++)
                {
                    float* a = transformedGrad + (long)p * block * op;
                    float* b = transformedInput + (long)p * block * cp;
                    float* s = sums + (long)p * op * cp;
                    for (int panel = 0; panel < panels; panel++)
                    {
                        int o = 0;
                        for (; o < rowGroups; o += MR) Multiply(a + o, 1, op, b + panel * NR, cp, count, s + (nint)o * cp + panel * NR, cp, accumulate: true);
                        for (; o < g.OutChannels; o++) MultiplyRow(a + o, op, b + panel * NR, cp, count, s + (nint)o * cp + panel * NR, accumulate: true);
                    }
                }
            }
        }
    }

    /// <summary>
    /// G′ dy G′ᵀ for the 2×2 grad tile at <paramref name="tile"/> (rows <paramref name="rowStride"/> apart,
    /// <paramref name="op"/> channels per position), 8 channels at a time; point p goes to to[p·pointStride + o].
    /// </summary>
    private static void TransformGradTile(float* tile, int rowStride, int op, float* to, long pointStride)
    {
        var t = stackalloc Vector256<float>[2 * Alpha];
        for (int o = 0; o < op; o += Lanes)
        {
            float* d = tile + o;
            for (int x = 0; x < 2; x++)
                GradRow(Vector256.Load(d + x * op), Vector256.Load(d + rowStride + x * op), (float*)(t + x), 2 * Lanes);
            for (int i = 0; i < Alpha; i++)
                GradRow(t[2 * i], t[2 * i + 1], to + i * Alpha * pointStride + o, (nint)pointStride);
        }
    }

    /// <summary>The 1-D grad transform G′·(g0, g1), stored at to, to + stride, … to + 5·stride (floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradRow(Vector256<float> g0, Vector256<float> g1, float* to, nint stride)
    {
        var twice = g1 + g1;
        Vector256.Store(g0 * Vector256.Create(0.25f), to);
        Vector256.Store((g0 + g1) * Vector256.Create(1f / 6), to + stride);
        Vector256.Store((g0 - g1) * Vector256.Create(1f / 6), to + 2 * stride);
        Vector256.Store((g0 + twice) * Vector256.Create(1f / 24), to + 3 * stride);
        Vector256.Store((g0 - twice) * Vector256.Create(1f / 24), to + 4 * stride);
        Vector256.Store(g1, to + 5 * stride);
    }

    /// <summary>gradWeight[o, c] = A′ᵀ S[·, o, c] A′ (5×5 from the 36 points), 8 input channels at a time.</summary>
    private static void TransformWeightGrad(in ConvGeometry g, float* sums, int cp, int op, float* gradWeight)
    {
        long pointStride = (long)op * cp;
        var t = stackalloc Vector256<float>[5 * Alpha];
        float* y = stackalloc float[25 * Lanes];
        var row = stackalloc Vector256<float>[5];
        for (int o = 0; o < g.OutChannels; o++)
        for (int c0 = 0; c0 < g.Channels; c0 += Lanes)
        {
            float* s = sums + (nint)o * cp + c0;
            for (int x = 0; x < Alpha; x++)
            {
                float* col = s + x * pointStride;
                KernelRow(Vector256.Load(col), Vector256.Load(col + Alpha * pointStride), Vector256.Load(col + 2 * Alpha * pointStride),
                    Vector256.Load(col + 3 * Alpha * pointStride), Vector256.Load(col + 4 * Alpha * pointStride), Vector256.Load(col + 5 * Alpha * pointStride),
                    t + x, Alpha);
            }
            for (int ky = 0; ky < 5; ky++)
            {
                var r = t + ky * Alpha;
                KernelRow(r[0], r[1], r[2], r[3], r[4], r[5], row, 1);
                for (int kx = 0; kx < 5; kx++) Vector256.Store(row[kx], y + (ky * 5 + kx) * Lanes);
            }
            int lanes = Math.Min(Lanes, g.Channels - c0);
            for (int lane = 0; lane < lanes; lane++)
            {
                float* to = gradWeight + ((nint)o * g.Channels + c0 + lane) * 25;
                for (int tap = 0; tap < 25; tap++) to[tap] = y[tap * Lanes + lane];
            }
        }
    }

    /// <summary>The 1-D kernel transform A′ᵀ·(m0…m5), written to to[0], to[stride], … to[4·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KernelRow(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4, Vector256<float> m5, Vector256<float>* to, int stride)
    {
        var sum12 = m1 + m2;
        var diff12 = m1 - m2;
        var sum34 = m3 + m4;
        var diff34 = m3 - m4;
        to[0] = m0 + sum12 + sum34;
        to[stride] = Fma.MultiplyAdd(diff34, Vector256.Create(2f), diff12);
        to[2 * stride] = Fma.MultiplyAdd(sum34, Vector256.Create(4f), sum12);
        to[3 * stride] = Fma.MultiplyAdd(diff34, Vector256.Create(8f), diff12);
        to[4 * stride] = Fma.MultiplyAdd(sum34, Vector256.Create(16f), sum12) + m5;
    }
}
