using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The p-norm of a contiguous array as torch.norm(x, p) defines it: +∞ gives max |x|, −∞ min |x|, 0 the
/// count of nonzeros, any other p (Σ |x|^p)^(1/p); an empty array gives 0. Sums are accumulated in float64
/// over fixed blocks and the block results combined in order, so the bits do not depend on the thread count.
/// </summary>
internal static unsafe class GradNormKernel
{
    internal const int BlockElements = 1 << 14;

    /// <summary>Blocks a participant takes at least.</summary>
    private const int GrainBlocks = 4;

    internal static double Norm<T>(T* x, int n, double p, WorkerPool? pool = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n <= 0) return 0;
        int blocks = (int)(((long)n + BlockElements - 1) / BlockElements);
        var partials = ArrayPool<double>.Shared.Rent(blocks);
        try
        {
            fixed (double* partial = partials)
            {
                var job = new Job<T>(x, n, p, partial);
                (pool ?? WorkerPool.Shared).For(blocks, GrainBlocks, ref job);
                double total = partial[0];
                for (int b = 1; b < blocks; b++)
                {
                    if (double.IsPositiveInfinity(p)) total = Math.Max(total, partial[b]);
                    else if (double.IsNegativeInfinity(p)) total = Math.Min(total, partial[b]);
                    else total += partial[b];
                }
                return Finish(total, p);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
        }
    }

    /// <summary>The norm from the combined block results: the 1/p-th power of a sum, or the result itself.</summary>
    internal static double Finish(double combined, double p)
    {
        if (double.IsInfinity(p) || p == 0 || p == 1) return combined;
        if (p == 2) return Math.Sqrt(combined);
        return Math.Pow(combined, 1 / p);
    }

    /// <summary>Block [start, end): Σ|x|^p, max |x|, min |x| or the nonzero count, in float64.</summary>
    internal static double Block<T>(T* x, int start, int end, double p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p == 2) return SumOfSquares(x, start, end);
        double result = double.IsNegativeInfinity(p) ? double.PositiveInfinity : 0;
        for (int i = start; i < end; i++)
        {
            double v = double.CreateTruncating(x[i]);
            double a = Math.Abs(v);
            if (double.IsPositiveInfinity(p)) result = Math.Max(result, a);
            else if (double.IsNegativeInfinity(p)) result = Math.Min(result, a);
            else if (p == 0) result += v != 0 ? 1 : 0;
            else if (p == 1) result += a;
            else result += Math.Pow(a, p);
        }
        return result;
    }

    private static double SumOfSquares<T>(T* x, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = start;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && typeof(T) == typeof(float))
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            float* f = (float*)x;
            for (; i + Vector256<float>.Count <= end; i += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Load(f + i));
                acc0 += lower * lower;
                acc1 += upper * upper;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && typeof(T) == typeof(double))
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            double* d = (double*)x;
            for (; i + 2 * Vector256<double>.Count <= end; i += 2 * Vector256<double>.Count)
            {
                var a = Vector256.Load(d + i);
                var b = Vector256.Load(d + i + Vector256<double>.Count);
                acc0 += a * a;
                acc1 += b * b;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < end; i++)
        {
            double v = double.CreateTruncating(x[i]);
            sum += v * v;
        }
        return sum;
    }

    private readonly struct Job<T>(T* x, int n, double p, double* partial) : IWorkerJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                int from = b * BlockElements;
                partial[b] = Block(x, from, (int)Math.Min((long)from + BlockElements, n), p);
            }
        }
    }
}
