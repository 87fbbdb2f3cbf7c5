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
/// Between loops a worker spins for <see cref="SpinSeconds"/> before it blocks, and the caller spins as
/// long for the workers to finish: a GEMM hands work over twice per call, and waking a blocked thread
/// measured ~9 µs against ~2 µs for a spinning one, a tenth of a (64×784)·(784×256) product at 2 threads.
/// </summary>
internal sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>The pool kernels use: KILN_NUM_THREADS threads, the caller included.</summary>
    internal static WorkerPool Shared { get; } = new(KilnEnvironment.NumThreads);

    /// <summary>How long an idle worker, or the caller awaiting its workers, spins before it blocks.</summary>
    private const double SpinSeconds = 100e-6;

    /// <summary>The low bits of <see cref="_ticket"/> hold the loop's participant count, the rest its number.</summary>
    private const int PartsBits = 16;

    private static readonly long SpinTicks = (long)(SpinSeconds * System.Diagnostics.Stopwatch.Frequency);

    private readonly object _startLock = new();
    private Thread[]? _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly SemaphoreSlim _finished = new(0);
    private int _callerSleeping;
    private int _busy;
    private int _pending;
    private volatile bool _disposed;

    // The loop in flight; written by the caller before it publishes the ticket.
    private delegate*<void*, int, int, void> _invoke;
    private void* _job;
    private int _count;
    private long _ticket;
    private ExceptionDispatchInfo? _failure;

    /// <summary>A pool whose loops use up to <paramref name="threadCount"/> threads, the caller's included.</summary>
    internal WorkerPool(int threadCount)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "a pool needs at least one thread");
        if (threadCount >= 1 << PartsBits) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "a pool has fewer than 65536 threads");
        ThreadCount = threadCount;
        _sleeping = new int[threadCount - 1];
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
                _failure = null;
                _pending = parts - 1;
                long loop = (_ticket >> PartsBits) + 1;
                Interlocked.Exchange(ref _ticket, (loop << PartsBits) | (long)parts);
                for (int i = 1; i < parts; i++)
                    if (Interlocked.Exchange(ref _sleeping[i - 1], 0) == 1) _wake[i - 1].Release();
                RunPart(0, parts);
                AwaitWorkers();
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

    /// <summary>
    /// Spins while the workers are likely to finish soon, then blocks, with the same flag handshake as
    /// <see cref="AwaitTicket"/>. A wake-up may be stale (the last worker of the previous loop raised it
    /// late), so the count of unfinished parts is what ends the wait, never the wake-up itself.
    /// </summary>
    private void AwaitWorkers()
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref _pending) != 0)
        {
            if (System.Diagnostics.Stopwatch.GetTimestamp() <= deadline)
            {
                Thread.SpinWait(8);
                continue;
            }
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (Volatile.Read(ref _pending) == 0)
            {
                if (Interlocked.Exchange(ref _callerSleeping, 0) == 0) _finished.Wait();
                return;
            }
            _finished.Wait();
        }
    }

    private void RunPart(int part, int parts)
    {
        int start = (int)((long)_count * part / parts);
        int end = (int)((long)_count * (part + 1) / parts);
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
        long seen = 0;
        while (true)
        {
            long ticket = AwaitTicket(part, seen);
            if (_disposed) return;
            seen = ticket >> PartsBits;
            int parts = (int)(ticket & ((1L << PartsBits) - 1));
            if (part >= parts) continue;
            RunPart(part, parts);
            if (Interlocked.Decrement(ref _pending) == 0 && Interlocked.Exchange(ref _callerSleeping, 0) == 1) _finished.Release();
        }
    }

    /// <summary>
    /// The ticket of the first loop after loop <paramref name="seen"/>: spun for a while, then blocked
    /// for. A blocked worker raises its sleeping flag before a last look at the ticket, and the caller
    /// publishes the ticket before it takes the flag down, so a wake-up is never lost; whichever of the
    /// two takes the flag down decides whether the semaphore is released, so it is never left over.
    /// </summary>
    private long AwaitTicket(int part, long seen)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            if (ticket >> PartsBits != seen || _disposed) return ticket;
            if (System.Diagnostics.Stopwatch.GetTimestamp() <= deadline)
            {
                Thread.SpinWait(8);
                continue;
            }
            Interlocked.Exchange(ref _sleeping[part - 1], 1);
            ticket = Volatile.Read(ref _ticket);
            if (ticket >> PartsBits != seen || _disposed)
            {
                if (Interlocked.Exchange(ref _sleeping[part - 1], 0) == 0) _wake[part - 1].Wait();
                return ticket;
            }
            _wake[part - 1].Wait();
            deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
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
        for (int i = 0; i < _wake.Length; i++)
            if (Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();
    }
}
