using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The 2×2, stride-2 max pool of one pair of float32 input rows, a vector of windows at a time (8 with
/// Vector512, 4 with Vector256): the CNNs' common pool, where the scalar window loop cost several
/// times the memory traffic (measured: 2.9 ms for the backward pass of a [64, 32, 28, 28] input).
/// Adjacent lanes hold a window's left and right columns; swapping lane pairs brings both columns of
/// a window into one lane, so each window is decided in its even lane by the scalar path's rule (the
/// first maximum in window order wins, a later NaN replaces it) and the results are bit-identical.
/// Each method returns how many windows it did; the caller finishes the rest with the scalar path.
/// </summary>
internal static unsafe class MaxPoolTwoByTwoRows
{
    /// <summary>
    /// y[ox] = the maximum of window ox of rows <paramref name="r0"/>, <paramref name="r1"/> (rows first, then
    /// columns). A row of at least one vector of windows ends with a vector that overlaps the one before it
    /// (windows computed twice get the same value), so the small images of a CNN's later layers (7 or 14
    /// windows a row) leave nothing to the scalar path, which cost 4× the vector loop there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int Forward(float* r0, float* r1, float* y, int windows)
    {
        if (Vector512.IsHardwareAccelerated && windows >= 8)
        {
            for (int ox = 0; ox < windows; ox += 8)
            {
                int at = Math.Min(ox, windows - 8);
                var column = MaxOrNaN(Vector512.Load(r0 + 2 * at), Vector512.Load(r1 + 2 * at));
                var window = MaxOrNaN(column, SwapPairs(column));
                Vector512.Shuffle(window, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14)).GetLower().Store(y + at);
            }
            return windows;
        }
        if (Vector256.IsHardwareAccelerated && windows >= 4)
        {
            for (int ox = 0; ox < windows; ox += 4)
            {
                int at = Math.Min(ox, windows - 4);
                var column = MaxOrNaN(Vector256.Load(r0 + 2 * at), Vector256.Load(r1 + 2 * at));
                var window = MaxOrNaN(column, SwapPairs(column));
                Vector256.Shuffle(window, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6)).GetLower().Store(y + at);
            }
            return windows;
        }
        return 0;
    }

    /// <summary>
    /// Writes the gradient of every input of the windows: <paramref name="dy"/>[ox] at window ox's
    /// maximum (as 0 + g, so −0 becomes +0, as the scalar path), 0 at its other three inputs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int Backward(float* r0, float* r1, float* dy, float* d0, float* d1, int windows)
    {
        int ox = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var left = Vector512.Create(0f, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
            var lower = left + Vector512.Create(2f);
            for (; ox + 8 <= windows; ox += 8)
            {
                var a = Vector512.Load(r0 + 2 * ox);
                var b = Vector512.Load(r1 + 2 * ox);
                var arg = ArgMax(a, b);
                var g = Vector512.Shuffle(Vector256.Load(dy + ox).ToVector512Unsafe(), Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)) + Vector512<float>.Zero;
                Vector512.ConditionalSelect(Vector512.Equals(arg, left), g, Vector512<float>.Zero).Store(d0 + 2 * ox);
                Vector512.ConditionalSelect(Vector512.Equals(arg, lower), g, Vector512<float>.Zero).Store(d1 + 2 * ox);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var left = Vector256.Create(0f, 1, 0, 1, 0, 1, 0, 1);
            var lower = left + Vector256.Create(2f);
            for (; ox + 4 <= windows; ox += 4)
            {
                var a = Vector256.Load(r0 + 2 * ox);
                var b = Vector256.Load(r1 + 2 * ox);
                var arg = ArgMax(a, b);
                var g = Vector256.Shuffle(Vector128.Load(dy + ox).ToVector256Unsafe(), Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3)) + Vector256<float>.Zero;
                Vector256.ConditionalSelect(Vector256.Equals(arg, left), g, Vector256<float>.Zero).Store(d0 + 2 * ox);
                Vector256.ConditionalSelect(Vector256.Equals(arg, lower), g, Vector256<float>.Zero).Store(d1 + 2 * ox);
            }
        }
        return ox;
    }

    /// <summary>
    /// Each window's argmax (0: top left, 1: top right, 2: bottom left, 3: bottom right) in both of its
    /// lanes: decided in the even lane over a0, a1, b0, b1 in that order, then copied to the odd lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ArgMax(Vector512<float> a, Vector512<float> b)
    {
        var best = a;
        var arg = Vector512<float>.Zero;
        var v = SwapPairs(a);
        var take = Takes(best, v);
        best = Vector512.ConditionalSelect(take, v, best);
        arg = Vector512.ConditionalSelect(take, Vector512.Create(1f), arg);
        take = Takes(best, b);
        best = Vector512.ConditionalSelect(take, b, best);
        arg = Vector512.ConditionalSelect(take, Vector512.Create(2f), arg);
        arg = Vector512.ConditionalSelect(Takes(best, SwapPairs(b)), Vector512.Create(3f), arg);
        return Vector512.Shuffle(arg, Vector512.Create(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ArgMax(Vector256<float> a, Vector256<float> b)
    {
        var best = a;
        var arg = Vector256<float>.Zero;
        var v = SwapPairs(a);
        var take = Takes(best, v);
        best = Vector256.ConditionalSelect(take, v, best);
        arg = Vector256.ConditionalSelect(take, Vector256.Create(1f), arg);
        take = Takes(best, b);
        best = Vector256.ConditionalSelect(take, b, best);
        arg = Vector256.ConditionalSelect(take, Vector256.Create(2f), arg);
        arg = Vector256.ConditionalSelect(Takes(best, SwapPairs(b)), Vector256.Create(3f), arg);
        return Vector256.Shuffle(arg, Vector256.Create(0, 0, 2, 2, 4, 4, 6, 6));
    }

    /// <summary>All ones where <paramref name="v"/> replaces <paramref name="best"/>: it is larger, or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Takes(Vector512<float> best, Vector512<float> v) => Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Takes(Vector256<float> best, Vector256<float> v) => Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaxOrNaN(Vector512<float> best, Vector512<float> v) => Vector512.ConditionalSelect(Takes(best, v), v, best);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MaxOrNaN(Vector256<float> best, Vector256<float> v) => Vector256.ConditionalSelect(Takes(best, v), v, best);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SwapPairs(Vector512<float> x) => Vector512.Shuffle(x, Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SwapPairs(Vector256<float> x) => Vector256.Shuffle(x, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6));
}
