using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Bench.Workloads;

/// <summary>
/// This machine's FP32 peak: every participating thread runs <see cref="Chains"/> independent
/// Vector256 FMA dependency chains (enough to cover FMA latency times the FMA ports of current x86
/// cores) for a fixed count of iterations; a call is one burst on all threads, started and ended
/// together by a barrier, so its rate is the machine's combined rate.
/// </summary>
internal sealed class FmaPeak : IDisposable
{
    internal const int Chains = 12;
    internal const int Iterations = 1 << 18;

    /// <summary>FLOPs of one thread's burst: chains × 8 lanes × (multiply + add) per iteration.</summary>
    internal const double FlopsPerThread = (double)Iterations * Chains * 8 * 2;

    private readonly Barrier _barrier;
    private readonly Thread[] _workers;
    private volatile bool _stopping;
    private static float s_sink;

    internal FmaPeak(int threads)
    {
        _barrier = new Barrier(threads);
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"fma-peak-{i + 1}" };
            _workers[i].Start();
        }
    }

    internal static bool IsSupported => Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>One burst on every thread (the caller is one of them).</summary>
    internal void Burst()
    {
        _barrier.SignalAndWait();
        s_sink += Chain(Iterations);
        _barrier.SignalAndWait();
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _barrier.SignalAndWait();
            if (_stopping) return;
            s_sink += Chain(Iterations);
            _barrier.SignalAndWait();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _barrier.SignalAndWait();
        foreach (var w in _workers) w.Join();
        _barrier.Dispose();
    }

    /// <summary>
    /// Twelve accumulators a ← a·m + c; with m below 1 they settle near c/(1−m), so no value overflows
    /// or goes subnormal. The sum is returned so the work cannot be dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain(int iterations)
    {
        var m = Vector256.Create(0.999f);
        var c = Vector256.Create(1e-4f);
        Vector256<float> a0 = Vector256.Create(0.01f), a1 = Vector256.Create(0.02f), a2 = Vector256.Create(0.03f),
            a3 = Vector256.Create(0.04f), a4 = Vector256.Create(0.05f), a5 = Vector256.Create(0.06f),
            a6 = Vector256.Create(0.07f), a7 = Vector256.Create(0.08f), a8 = Vector256.Create(0.09f),
            a9 = Vector256.Create(0.10f), a10 = Vector256.Create(0.11f), a11 = Vector256.Create(0.12f);
        for (int i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c);
            a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c);
            a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c);
            a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c);
            a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c);
            a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c);
            a11 = Fma.MultiplyAdd(a11, m, c);
        }
        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(sum);
    }
}
