using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The one driver for <see cref="IOptimizerRule{T}"/>s: the widest accelerated vector width over the body,
/// the scalar twin over the tail, and large parameters split over the worker pool in fixed blocks.
/// </summary>
internal static class OptimizerUpdateLoop
{
    /// <summary>Elements per work item; a share of the pool is a whole number of blocks.</summary>
    internal const int BlockElements = 1 << 12;

    /// <summary>
    /// Blocks a participant takes at least (128K elements, about 0.1 ms of Adam on one core): an update
    /// streams a few arrays once, and waking a worker on a busy machine can cost more than a smaller share
    /// saves (measured: a 200K-element Adam step split over two threads went from 0.4 to 6 ms under load).
    /// </summary>
    internal const int GrainBlocks = 32;

    /// <summary>Runs <paramref name="rule"/> over elements [0, <paramref name="length"/>), spread over <paramref name="pool"/> (null: the shared pool).</summary>
    internal static void Run<T, TRule>(TRule rule, int length, WorkerPool? pool = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : unmanaged, IOptimizerRule<T>
    {
        if (length <= 0) return;
        var job = new Job<T, TRule>(rule, length);
        int blocks = (int)(((long)length + BlockElements - 1) / BlockElements);
        (pool ?? WorkerPool.Shared).For(blocks, GrainBlocks, ref job);
    }

    /// <summary>
    /// Runs <paramref name="rule"/> over elements [start, end) on this thread. Fully optimized from the
    /// first call: left to tiered compilation, the first few hundred training steps ran this loop as
    /// unoptimized code, seven times slower (1.6 ms instead of 0.23 ms per Adam step of a 235K-parameter MLP).
    /// Never inlined: inlined into the pool's job, the rule's lane operators overran the JIT's inlining
    /// budget and became calls passing vectors through memory, ten times slower (Adam over 1M parameters
    /// at 2 threads: 6.4 ms instead of 0.6; a single thread, calling Range directly, never saw it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void Range<T, TRule>(TRule rule, nuint start, nuint end)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : unmanaged, IOptimizerRule<T>
    {
        nuint i = start;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            i = Vectors<T, TRule, Vector512Lane<T>>(rule, i, end);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            i = Vectors<T, TRule, Vector256Lane<T>>(rule, i, end);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            i = Vectors<T, TRule, Vector128Lane<T>>(rule, i, end);
        for (; i < end; i++) rule.Update<ScalarLane<T>>(i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nuint Vectors<T, TRule, TLane>(TRule rule, nuint i, nuint end)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : unmanaged, IOptimizerRule<T>
        where TLane : unmanaged, ILane<TLane, T>
    {
        nuint width = TLane.Count;
        for (; i + width <= end; i += width) rule.Update<TLane>(i);
        return i;
    }

    private readonly struct Job<T, TRule>(TRule rule, int length) : IWorkerJob
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : unmanaged, IOptimizerRule<T>
    {
        public void Run(int start, int end)
        {
            long from = (long)start * BlockElements, to = Math.Min((long)end * BlockElements, length);
            Range<T, TRule>(rule, (nuint)from, (nuint)to);
        }
    }
}
