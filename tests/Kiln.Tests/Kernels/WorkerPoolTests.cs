using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

public sealed unsafe class WorkerPoolTests
{
    /// <summary>Adds one to counts[i] for each item, and records which participant share the item was in.</summary>
    private readonly struct CountJob(int* counts, int* starts) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref counts[i]);
                starts[i] = start;
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void For_runs_every_item_once_in_equal_contiguous_shares(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (var count in new[] { 0, 1, 2, 3, 7, 64, 101 })
        {
            foreach (var grain in new[] { 1, 4, 1000 })
            {
                var counts = new int[count + 1];
                var starts = new int[count + 1];
                fixed (int* c = counts, s = starts)
                {
                    var job = new CountJob(c, s);
                    pool.For(count, grain, ref job);
                }
                int parts = Math.Clamp(count / grain, 1, threads);
                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(1, counts[i]);
                    // Participant t owns [count·t/parts, count·(t+1)/parts): the split depends on sizes only.
                    int t = 0;
                    while ((long)count * (t + 1) / parts <= i) t++;
                    Assert.Equal((int)((long)count * t / parts), starts[i]);
                }
                Assert.Equal(0, counts[count]);
            }
        }
    }

    private readonly struct ThreadJob(int* threadIds) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++) threadIds[i] = Environment.CurrentManagedThreadId;
        }
    }

    [Fact]
    public void For_below_the_grain_runs_inline_on_the_caller()
    {
        using var pool = new WorkerPool(4);
        var ids = new int[10];
        fixed (int* p = ids)
        {
            var job = new ThreadJob(p);
            pool.For(10, 16, ref job);
        }
        Assert.All(ids, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void For_uses_other_threads_for_big_loops()
    {
        using var pool = new WorkerPool(2);
        var ids = new int[2];
        fixed (int* p = ids)
        {
            var job = new ThreadJob(p);
            pool.For(2, 1, ref job);
        }
        Assert.Equal(Environment.CurrentManagedThreadId, ids[0]);
        Assert.NotEqual(Environment.CurrentManagedThreadId, ids[1]);
    }

    private readonly struct ThrowingJob(int failAt) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
                if (i == failAt) throw new InvalidOperationException($"item {i} failed");
        }
    }

    [Fact]
    public void For_rethrows_a_participant_exception_and_stays_usable()
    {
        using var pool = new WorkerPool(3);
        var job = new ThrowingJob(8);
        var ex = Assert.Throws<InvalidOperationException>(() => pool.For(9, 1, ref job));
        Assert.Equal("item 8 failed", ex.Message);
        var counts = new int[9];
        var starts = new int[9];
        fixed (int* c = counts, s = starts)
        {
            var ok = new CountJob(c, s);
            pool.For(9, 1, ref ok);
        }
        Assert.All(counts, n => Assert.Equal(1, n));
    }

    /// <summary>Jobs hold no managed references (they are pinned through a pointer), so the pool travels in a handle.</summary>
    private readonly struct NestedJob(System.Runtime.InteropServices.GCHandle pool, int* counts) : IWorkerJob
    {
        public void Run(int start, int end)
        {
            var target = (WorkerPool)pool.Target!;
            for (int i = start; i < end; i++)
            {
                var inner = new CountJob(counts + i * 4, counts + 1000 + i * 4);
                target.For(4, 1, ref inner);
            }
        }
    }

    [Fact]
    public void For_inside_a_job_runs_inline_without_deadlock()
    {
        using var pool = new WorkerPool(2);
        var counts = new int[2000];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(pool);
        try
        {
            fixed (int* c = counts)
            {
                var job = new NestedJob(handle, c);
                pool.For(8, 1, ref job);
            }
        }
        finally
        {
            handle.Free();
        }
        for (int i = 0; i < 32; i++) Assert.Equal(1, counts[i]);
    }

    [Fact]
    public void For_from_several_threads_at_once_completes_every_loop()
    {
        using var pool = new WorkerPool(2);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Caller()
        {
            for (int round = 0; round < 50; round++)
            {
                var counts = new int[33];
                var starts = new int[33];
                fixed (int* c = counts, s = starts)
                {
                    var job = new CountJob(c, s);
                    pool.For(33, 1, ref job);
                }
                if (counts.Any(n => n != 1)) failures.Enqueue($"round {round}: counts {string.Join(",", counts)}");
            }
        }
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(Caller)).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "parallel loops did not finish");
        Assert.Empty(failures);
    }

    [Fact]
    public void For_after_dispose_runs_inline()
    {
        var pool = new WorkerPool(3);
        pool.Dispose();
        pool.Dispose();
        var ids = new int[6];
        fixed (int* p = ids)
        {
            var job = new ThreadJob(p);
            pool.For(6, 1, ref job);
        }
        Assert.All(ids, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }
}
