using System.Runtime.ExceptionServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The body of a parallel loop: a struct holding the loop's inputs (pointers, sizes), so a call
/// allocates nothing. <see cref="Run"/> is called once per participant with its contiguous share of
/// the items, possibly from several threads at once, so it must not change the struct.
/// </summary>
internal interface IWorkerJob
{
    void Run(int start, int end);
}

/// <summary>
/// A small fixed set of worker threads for kernels. <see cref="For{TJob}"/> splits items into
/// contiguous equal shares, one per participant (the caller is one of them), so which thread does
/// which item depends only on the item count and thread count, never on timing. A job whose items are
/// computed independently of each other therefore gives the same bits whatever the thread count.
/// A call made while the pool is busy (from another thread, or from inside a job) runs inline.
/// </summary>
internal sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>The pool kernels use: KILN_NUM_THREADS threads, the caller included.</summary>
    internal static WorkerPool Shared { get; } = new(KilnEnvironment.NumThreads);

    private readonly object _startLock = new();
    private Thread[]? _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false);
    private int _busy;
    private int _pending;
    private volatile bool _disposed;

    // The loop in flight; written by the caller before it wakes the workers.
    private delegate*<void*, int, int, void> _invoke;
    private void* _job;
    private int _count;
    private int _parts;
    private ExceptionDispatchInfo? _failure;

    /// <summary>A pool whose loops use up to <paramref name="threadCount"/> threads, the caller's included.</summary>
    internal WorkerPool(int threadCount)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "a pool needs at least one thread");
        ThreadCount = threadCount;
        _wake = new SemaphoreSlim[threadCount - 1];
        for (int i = 0; i < _wake.Length; i++) _wake[i] = new SemaphoreSlim(0);
    }

    /// <summary>Most participants a loop can have (the caller and the workers).</summary>
    internal int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="job"/> over items [0, <paramref name="count"/>): at most ThreadCount
    /// participants, each with at least <paramref name="grain"/> items, so small loops run inline on
    /// the caller. Returns when every item is done; rethrows the first exception a participant threw.
    /// </summary>
    internal void For<TJob>(int count, int grain, ref TJob job) where TJob : unmanaged, IWorkerJob
    {
        if (count <= 0) return;
        int parts = Parts(count, grain);
        if (parts <= 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            job.Run(0, count);
            return;
        }
        try
        {
            EnsureStarted();
            fixed (TJob* pointer = &job)
            {
                _invoke = &Invoke<TJob>;
                _job = pointer;
                _count = count;
                _parts = parts;
                _failure = null;
                _pending = parts - 1;
                _done.Reset();
                for (int i = 1; i < parts; i++) _wake[i - 1].Release();
                RunPart(0);
                _done.Wait();
                _job = null;
            }
            _failure?.Throw();
        }
        finally
        {
            _failure = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>How many participants a loop of <paramref name="count"/> items gets.</summary>
    internal int Parts(int count, int grain)
    {
        long byGrain = count / Math.Max(grain, 1);
        return (int)Math.Clamp(byGrain, 1, ThreadCount);
    }

    private static void Invoke<TJob>(void* job, int start, int end) where TJob : unmanaged, IWorkerJob
        => ((TJob*)job)->Run(start, end);

    private void RunPart(int part)
    {
        int start = (int)((long)_count * part / _parts);
        int end = (int)((long)_count * (part + 1) / _parts);
        try
        {
            if (start < end) _invoke(_job, start, end);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _threads) is not null) return;
        lock (_startLock)
        {
            if (_threads is not null) return;
            var threads = new Thread[ThreadCount - 1];
            for (int i = 0; i < threads.Length; i++)
            {
                int part = i + 1;
                threads[i] = new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"Kiln worker {part}" };
                threads[i].Start();
            }
            Volatile.Write(ref _threads, threads);
        }
    }

    private void WorkerLoop(int part)
    {
        var wake = _wake[part - 1];
        while (true)
        {
            wake.Wait();
            if (_disposed) return;
            RunPart(part);
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Waits for the loop in flight, then stops the worker threads; later loops run inline.</summary>
    public void Dispose()
    {
        // Holding the busy flag for good keeps every later loop inline and off the workers.
        lock (_startLock)
        {
            if (_disposed) return;
            var spin = new SpinWait();
            while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) spin.SpinOnce();
            _disposed = true;
        }
        foreach (var w in _wake) w.Release();
    }
}
