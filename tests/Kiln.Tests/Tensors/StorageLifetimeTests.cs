using System.Runtime.CompilerServices;

namespace Kiln.Tests.Tensors;

/// <summary>Storage lifetime as seen in the pool's statistics: exact numbers, so these run alone.</summary>
[Collection(MemoryCollection.Name)]
public sealed class StorageLifetimeTests
{
    [Fact]
    public void Memory_is_released_when_the_last_view_goes()
    {
        long start = MemoryCollection.Settle().BytesInUse;
        var t = Tensor.Zeros([1000]);
        var view = t.Reshape(10, 100);
        long held = Engine.MemoryStats().BytesInUse;
        Assert.True(held > start);
        t.Dispose();
        Assert.Equal(held, Engine.MemoryStats().BytesInUse);
        view.Dispose();
        Assert.Equal(start, Engine.MemoryStats().BytesInUse);
    }

    [Fact]
    public void The_finalizer_returns_the_memory_of_tensors_never_disposed()
    {
        long start = MemoryCollection.Settle().BytesInUse;
        AllocateAndDrop();
        Assert.True(Engine.MemoryStats().BytesInUse > start);
        Assert.Equal(start, MemoryCollection.Settle().BytesInUse);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop()
    {
        var t = Tensor.Ones([5000]);
        _ = t.Reshape(50, 100);
    }
}
