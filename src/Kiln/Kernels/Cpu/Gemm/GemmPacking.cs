using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Copies GEMM operands into the panel order the microkernels read: A in MR-row panels (for each p,
/// MR consecutive values), B in NR-column panels (for each p, NR consecutive values), the last panel
/// padded with zeros. Transposed operands are handled here, by reading them in the other order, so
/// no transpose is ever materialized.
/// </summary>
internal static unsafe class GemmPacking<T> where T : unmanaged
{
    /// <summary>Rows [i0, i0+rows) and depth [p0, p0+kc) of op(A) into ceil(rows/MR) panels of MR×kc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA<TKernel>(in GemmOperand<T> a, int i0, int rows, int p0, int kc, T* dest)
        where TKernel : IGemmMicroKernel<T>
    {
        int mr = TKernel.MR;
        if (a.Transposed)
        {
            // Element (i, p) at Data[p·Ld + i]: stored rows are read one after another (so the hardware
            // prefetcher follows) and each is dealt out MR values per panel.
            for (int p = 0; p < kc; p++)
            {
                T* src = a.Data + (nint)(p0 + p) * a.Ld + i0;
                T* d = dest + (nint)p * mr;
                for (int ir = 0; ir < rows; ir += mr, d += (nint)mr * kc)
                {
                    int height = Math.Min(mr, rows - ir);
                    int r = 0;
                    for (; r < height; r++) d[r] = src[ir + r];
                    for (; r < mr; r++) d[r] = default;
                }
            }
            return;
        }
        for (int ir = 0; ir < rows; ir += mr)
        {
            // Element (i, p) at Data[i·Ld + p]: each row is read in order and scattered MR apart.
            int height = Math.Min(mr, rows - ir);
            if (typeof(T) == typeof(float) && height == mr && (mr == 6 || mr == 8) && Vector256.IsHardwareAccelerated)
            {
                PanelFromRows((float*)(a.Data + (nint)(i0 + ir) * a.Ld + p0), a.Ld, mr, kc, (float*)dest);
                dest += (nint)mr * kc;
                continue;
            }
            for (int r = 0; r < height; r++)
            {
                T* src = a.Data + (nint)(i0 + ir + r) * a.Ld + p0;
                T* d = dest + r;
                for (int p = 0; p < kc; p++) d[(nint)p * mr] = src[p];
            }
            for (int r = height; r < mr; r++)
                for (int p = 0; p < kc; p++) dest[(nint)p * mr + r] = default;
            dest += (nint)mr * kc;
        }
    }

    /// <summary>Columns [j0, j0+cols) and depth [p0, p0+kc) of op(B) into ceil(cols/NR) panels of kc×NR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB<TKernel>(in GemmOperand<T> b, int j0, int cols, int p0, int kc, T* dest)
        where TKernel : IGemmMicroKernel<T>
    {
        int nr = TKernel.NR;
        if (!b.Transposed)
        {
            // Element (p, j) at Data[p·Ld + j]: a group of stored rows at a time, dealt out to every
            // panel, so each panel receives DepthGroup·NR contiguous values (dealing one row out to all
            // panels wrote NR values kc·NR apart, the same L1 set each time: twice as slow), while the
            // next group's rows are prefetched (the hardware prefetcher stops at each row's 4 KB page).
            int full = cols / nr * nr;
            for (int p = 0; p < kc; p += DepthGroup)
            {
                int depth = Math.Min(DepthGroup, kc - p);
                T* src = b.Data + (nint)(p0 + p) * b.Ld + j0;
                for (int r = DepthGroup; r < 2 * DepthGroup && p + r < kc; r++) PrefetchRow(src + r * (nint)b.Ld, cols);
                T* d = dest + (nint)p * nr;
                if (typeof(T) == typeof(float) && depth == DepthGroup && nr % 8 == 0 && Vector256.IsHardwareAccelerated)
                    DealGroup((float*)src, b.Ld, full, nr, kc, (float*)d);
                else
                    for (int jr = 0; jr < full; jr += nr)
                        for (int r = 0; r < depth; r++) CopyRow(src + r * (nint)b.Ld + jr, d + (nint)jr * kc + r * nr, nr);
                d += (nint)full * kc;
                if (full < cols)
                {
                    for (int r = 0; r < depth; r++)
                    {
                        T* row = src + r * (nint)b.Ld + full;
                        T* e = d + r * nr;
                        int j = 0;
                        for (; j < cols - full; j++) e[j] = row[j];
                        for (; j < nr; j++) e[j] = default;
                    }
                }
            }
            return;
        }
        for (int jr = 0; jr < cols; jr += nr)
        {
            // Element (p, j) at Data[j·Ld + p]: each stored row is one column of the panel.
            int width = Math.Min(nr, cols - jr);
            int jj = 0;
            if (typeof(T) == typeof(float) && width == nr && nr % 8 == 0 && Vector256.IsHardwareAccelerated)
            {
                for (; jj < nr; jj += 8)
                    TransposeColumns((float*)(b.Data + (nint)(j0 + jr + jj) * b.Ld + p0), b.Ld, 8, kc, (float*)(dest + jj), nr);
            }
            for (; jj < width; jj++)
            {
                T* src = b.Data + (nint)(j0 + jr + jj) * b.Ld + p0;
                T* d = dest + jj;
                for (int p = 0; p < kc; p++) d[(nint)p * nr] = src[p];
            }
            for (; jj < nr; jj++)
                for (int p = 0; p < kc; p++) dest[(nint)p * nr + jj] = default;
            dest += (nint)nr * kc;
        }
    }

    /// <summary>
    /// Eight stored rows of B, <paramref name="full"/> columns from <paramref name="src"/>, into the
    /// full panels: panel q gets the rows' columns [q·nr, (q+1)·nr) as eight consecutive nr-value rows
    /// at dest + q·nr·kc. Straight-line vector copies (the generic loop re-read the stride every row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void DealGroup(float* src, nint ld, int full, int nr, int kc, float* dest)
    {
        float* s1 = src + ld, s2 = src + 2 * ld, s3 = src + 3 * ld, s4 = src + 4 * ld, s5 = src + 5 * ld, s6 = src + 6 * ld, s7 = src + 7 * ld;
        nint panelStride = (nint)nr * kc;
        for (int jr = 0; jr < full; jr += nr, dest += panelStride)
        {
            for (int v = 0; v < nr; v += 8)
            {
                nint j = jr + v;
                Vector256.Load(src + j).Store(dest + v);
                Vector256.Load(s1 + j).Store(dest + nr + v);
                Vector256.Load(s2 + j).Store(dest + 2 * nr + v);
                Vector256.Load(s3 + j).Store(dest + 3 * nr + v);
                Vector256.Load(s4 + j).Store(dest + 4 * nr + v);
                Vector256.Load(s5 + j).Store(dest + 5 * nr + v);
                Vector256.Load(s6 + j).Store(dest + 6 * nr + v);
                Vector256.Load(s7 + j).Store(dest + 7 * nr + v);
            }
        }
    }

    /// <summary>How many stored rows of B <see cref="PackB"/> deals out to the panels at a time.</summary>
    private const int DepthGroup = 8;

    /// <summary>
    /// Asks for the cache lines of one stored row segment of B ahead of use: each row of a wide B starts
    /// a new 4 KB page, where the hardware prefetcher stops, so packing a B streamed from memory waited
    /// on every row's first lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow(T* row, int count)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        byte* start = (byte*)row, end = (byte*)(row + count);
        for (byte* line = start; line < end; line += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(line);
    }

    /// <summary>
    /// One full A panel from <paramref name="mr"/> (6 or 8) stored rows: dest[p·mr + r] = src[r·ld + p],
    /// through 8×8 register transposes; scattering scalars MR apart cost ~4× as much per element as packing B.
    /// </summary>
    private static void PanelFromRows(float* src, int ld, int mr, int kc, float* dest)
        => TransposeColumns(src, ld, mr, kc, dest, mr);

    /// <summary>The first <paramref name="mr"/> (6 or 8) lanes of <paramref name="v"/> to dest, nothing past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDepth(Vector256<float> v, float* dest, int mr)
    {
        if (mr == 8)
        {
            v.Store(dest);
            return;
        }
        v.GetLower().Store(dest);
        *(ulong*)(dest + 4) = v.GetUpper().AsUInt64().ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(T* src, T* dest, int count)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + i), dest + i);
        else if (Vector128.IsHardwareAccelerated)
            for (; i <= count - Vector128<T>.Count; i += Vector128<T>.Count) Vector128.Store(Vector128.Load(src + i), dest + i);
        for (; i < count; i++) dest[i] = src[i];
    }

    /// <summary>
    /// dest[p·destStride + c] = src[c·ld + p] for c &lt; <paramref name="rows"/> (6 or 8), p &lt; kc: stored
    /// rows become adjacent panel columns, 8×8 blocks at a time through registers (missing rows are
    /// zeros that are never stored).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeColumns(float* src, int ld, int rows, int kc, float* dest, int destStride)
    {
        int p = 0;
        for (; p <= kc - 8; p += 8)
        {
            float* s = src + p;
            var r0 = Vector256.Load(s);
            var r1 = Vector256.Load(s + ld);
            var r2 = Vector256.Load(s + 2 * (nint)ld);
            var r3 = Vector256.Load(s + 3 * (nint)ld);
            var r4 = Vector256.Load(s + 4 * (nint)ld);
            var r5 = Vector256.Load(s + 5 * (nint)ld);
            var r6 = rows == 8 ? Vector256.Load(s + 6 * (nint)ld) : Vector256<float>.Zero;
            var r7 = rows == 8 ? Vector256.Load(s + 7 * (nint)ld) : Vector256<float>.Zero;
            Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            float* d = dest + (nint)p * destStride;
            StoreDepth(r0, d, rows);
            StoreDepth(r1, d + destStride, rows);
            StoreDepth(r2, d + 2 * (nint)destStride, rows);
            StoreDepth(r3, d + 3 * (nint)destStride, rows);
            StoreDepth(r4, d + 4 * (nint)destStride, rows);
            StoreDepth(r5, d + 5 * (nint)destStride, rows);
            StoreDepth(r6, d + 6 * (nint)destStride, rows);
            StoreDepth(r7, d + 7 * (nint)destStride, rows);
        }
        for (; p < kc; p++)
        {
            float* d = dest + (nint)p * destStride;
            for (int c = 0; c < rows; c++) d[c] = src[(nint)c * ld + p];
        }
    }

    /// <summary>Transposes the 8×8 matrix whose rows are r0..r7, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves: three shuffle stages.
        var t0 = Interleave(r0, r1, false);
        var t1 = Interleave(r0, r1, true);
        var t2 = Interleave(r2, r3, false);
        var t3 = Interleave(r2, r3, true);
        var t4 = Interleave(r4, r5, false);
        var t5 = Interleave(r4, r5, true);
        var t6 = Interleave(r6, r7, false);
        var t7 = Interleave(r6, r7, true);
        var u0 = Pairs(t0, t2, false);
        var u1 = Pairs(t0, t2, true);
        var u2 = Pairs(t1, t3, false);
        var u3 = Pairs(t1, t3, true);
        var u4 = Pairs(t4, t6, false);
        var u5 = Pairs(t4, t6, true);
        var u6 = Pairs(t5, t7, false);
        var u7 = Pairs(t5, t7, true);
        r0 = Halves(u0, u4, false);
        r1 = Halves(u1, u5, false);
        r2 = Halves(u2, u6, false);
        r3 = Halves(u3, u7, false);
        r4 = Halves(u0, u4, true);
        r5 = Halves(u1, u5, true);
        r6 = Halves(u2, u6, true);
        r7 = Halves(u3, u7, true);
    }

    /// <summary>Per 128-bit half: x0 y0 x1 y1 (low) or x2 y2 x3 y3 (high).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Interleave(Vector256<float> x, Vector256<float> y, bool high)
    {
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
            return high ? System.Runtime.Intrinsics.X86.Avx.UnpackHigh(x, y) : System.Runtime.Intrinsics.X86.Avx.UnpackLow(x, y);
        int o = high ? 2 : 0;
        return Vector256.Create(x[o], y[o], x[o + 1], y[o + 1], x[o + 4], y[o + 4], x[o + 5], y[o + 5]);
    }

    /// <summary>Per 128-bit half: x0 x1 y0 y1 (low pairs) or x2 x3 y2 y3 (high pairs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pairs(Vector256<float> x, Vector256<float> y, bool high)
    {
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
            return high ? System.Runtime.Intrinsics.X86.Avx.Shuffle(x, y, 0xEE) : System.Runtime.Intrinsics.X86.Avx.Shuffle(x, y, 0x44);
        int o = high ? 2 : 0;
        return Vector256.Create(x[o], x[o + 1], y[o], y[o + 1], x[o + 4], x[o + 5], y[o + 4], y[o + 5]);
    }

    /// <summary>The low 128-bit halves of x and y (or the high halves), joined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves(Vector256<float> x, Vector256<float> y, bool high)
        => high ? Vector256.Create(x.GetUpper(), y.GetUpper()) : Vector256.Create(x.GetLower(), y.GetLower());
}
