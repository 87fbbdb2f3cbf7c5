namespace Kiln.Tests.Tensors;

/// <summary>Small buffers cached per thread: counted as cached, freed by EmptyCache, and not stranded by a thread that ends.</summary>
[Collection(MemoryCollection.Name)]
public sealed class MemoryPoolThreadCacheTests
{
    private static void OnNewThread(Action action)
    {
        var thread = new Thread(() => action());
        thread.Start();
        thread.Join();
    }

    [Fact]
    public void EmptyCache_frees_small_buffers_cached_by_another_thread()
    {
        var before = MemoryCollection.Settle();
        long capacity = MemoryPool.SizeClass(400).Capacity;
        var started = new ManualResetEventSlim();
        var finish = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            Tensor.Empty([100], DType.Float32).Dispose();
            started.Set();
            finish.Wait();
        });
        thread.Start();
        started.Wait();
        try
        {
            Assert.Equal(before.BytesInUse, Engine.MemoryStats().BytesInUse);
            Assert.True(Engine.MemoryStats().BytesCached >= capacity);
            Engine.EmptyCache();
            Assert.Equal(0, Engine.MemoryStats().BytesCached);
        }
        finally
        {
            finish.Set();
            thread.Join();
        }
    }

    [Fact]
    public unsafe void A_buffer_cached_by_a_thread_that_ended_serves_another_thread()
    {
        MemoryCollection.Settle();
        Engine.EmptyCache();
        nint first = 0, second = 0;
        long allocations = 0;
        OnNewThread(() =>
        {
            var t = Tensor.Empty([100], DType.Float32);
            first = (nint)t.DataPointer;
            t.Dispose();
            allocations = Engine.MemoryStats().NativeAllocations;
        });
        OnNewThread(() =>
        {
            using var t = Tensor.Empty([100], DType.Float32);
            second = (nint)t.DataPointer;
        });
        Assert.Equal(first, second);
        Assert.Equal(allocations, Engine.MemoryStats().NativeAllocations);
    }
}
