using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Cross entropy of logits [rows, classes] against class indices, each row in one pass: its
/// log-sum-exp (maximum, then the sum of exp(x − max)) and the pick of the target's logit give the
/// row's loss; the gradient is softmax − target distribution, scaled, written in one more pass over
/// the row. With label smoothing ε the target distribution is (1 − ε)·one-hot + ε/classes. Rows whose
/// target is the ignore index give 0 and no gradient. Rows are independent, so rows are spread over a
/// <see cref="WorkerPool"/> and the result does not depend on the thread count; a sum over rows is
/// taken afterwards in row order.
/// </summary>
internal static unsafe class CrossEntropyKernel
{
    /// <summary>The first row whose target is neither a class index in [0, classes) nor <paramref name="ignoreIndex"/>, or −1.</summary>
    internal static int FindInvalidTarget(long* target, int rows, int classes, long ignoreIndex)
    {
        for (int i = 0; i < rows; i++)
        {
            long t = target[i];
            if (t != ignoreIndex && (ulong)t >= (ulong)classes) return i;
        }
        return -1;
    }

    /// <summary>How many rows have a target other than <paramref name="ignoreIndex"/>.</summary>
    internal static int CountValid(long* target, int rows, long ignoreIndex)
    {
        int count = 0;
        for (int i = 0; i < rows; i++)
            if (target[i] != ignoreIndex) count++;
        return count;
    }

    /// <summary>
    /// losses[i] = log-sum-exp(x[i]) − (1 − ε)·x[i, target[i]] − ε/classes·Σ x[i] (0 for ignored rows).
    /// Targets must have been checked with <see cref="FindInvalidTarget"/>.
    /// </summary>
    internal static void Losses<T>(T* x, long* target, int rows, int classes, long ignoreIndex, double smoothing, T* losses, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new LossJob<T>(x, target, classes, ignoreIndex, T.CreateChecked(smoothing), losses);
        Spread(pool, rows, classes, ref job);
    }

    /// <summary>
    /// dx[i] = s_i·(softmax(x[i]) − (1 − ε)·one-hot(target[i]) − ε/classes) with s_i = grad[i]·scale when
    /// <paramref name="gradPerRow"/>, else grad[0]·scale; rows with an ignored target get 0.
    /// </summary>
    internal static void Gradient<T>(T* x, long* target, int rows, int classes, long ignoreIndex, double smoothing,
        T* grad, bool gradPerRow, T scale, T* dx, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new GradientJob<T>(x, target, classes, ignoreIndex, T.CreateChecked(smoothing), grad, gradPerRow, scale, dx);
        Spread(pool, rows, classes, ref job);
    }

    private static void Spread<TJob>(WorkerPool? pool, int rows, int classes, ref TJob job) where TJob : unmanaged, IWorkerJob
    {
        if (rows <= 0) return;
        int grain = Math.Max(1, ElementwiseLoop.MinShare / Math.Max(classes, 1));
        if (rows < 2 * grain) job.Run(0, rows);
        else (pool ?? WorkerPool.Shared).For(rows, grain, ref job);
    }

    private readonly struct LossJob<T>(T* x, long* target, int classes, long ignoreIndex, T smoothing, T* losses) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            T keep = T.One - smoothing, spread = smoothing / T.CreateChecked(classes);
            for (int i = start; i < end; i++)
            {
                long t = target[i];
                if (t == ignoreIndex)
                {
                    losses[i] = T.Zero;
                    continue;
                }
                var row = new ReadOnlySpan<T>(x + (nint)i * classes, classes);
                var (max, sum) = MaxAndSumExp(row);
                T loss = max + T.Log(sum) - keep * row[(int)t];
                if (smoothing != T.Zero) loss -= spread * TensorPrimitives.Sum(row);
                losses[i] = loss;
            }
        }
    }

    private readonly struct GradientJob<T>(T* x, long* target, int classes, long ignoreIndex, T smoothing, T* grad, bool gradPerRow, T scale, T* dx) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            T keep = T.One - smoothing, spread = smoothing / T.CreateChecked(classes);
            for (int i = start; i < end; i++)
            {
                var d = new Span<T>(dx + (nint)i * classes, classes);
                long t = target[i];
                if (t == ignoreIndex)
                {
                    d.Clear();
                    continue;
                }
                var row = new ReadOnlySpan<T>(x + (nint)i * classes, classes);
                T s = (gradPerRow ? grad[i] : grad[0]) * scale;
                var (max, sum) = MaxAndSumExp(row);
                ScaledSoftmax(row, max, s / sum, s * spread, d);
                d[(int)t] -= s * keep;
            }
        }
    }

    /// <summary>The row's maximum and Σ exp(x − max) (NaN anywhere gives NaN).</summary>
    private static (T Max, T Sum) MaxAndSumExp<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(row);
        return (max, SoftmaxKernel.SumExpShifted(row, max));
    }

    /// <summary>d[i] = exp(x[i] − max)·factor − offset.</summary>
    private static void ScaledSoftmax<T>(ReadOnlySpan<T> row, T max, T factor, T offset, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && row.Length >= Vector256<T>.Count)
        {
            var shift = Vector256.Create(max);
            var f = Vector256.Create(factor);
            var o = Vector256.Create(offset);
            ref T r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(row);
            ref T w = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(d);
            for (; i <= row.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (VectorMath.ExpFast(Vector256.LoadUnsafe(ref r, (nuint)i) - shift) * f - o).StoreUnsafe(ref w, (nuint)i);
        }
        for (; i < row.Length; i++) d[i] = T.Exp(row[i] - max) * factor - offset;
    }

    /// <summary>Σ values in a fixed order (the vectorized sum of TensorPrimitives), so a loss summed over rows is the same for any thread count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Sum<T>(T* values, int count) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Sum(new ReadOnlySpan<T>(values, count));
}
