using System.Runtime.CompilerServices;

namespace Kiln.Tests.Ops;

/// <summary>
/// The eager path from a call to the kernel allocates nothing but the result: no spec arrays, shape
/// copies, layouts or closures. Measured with the thread's allocation counter, so the bound is the
/// size of a Tensor object plus a Storage object (the result's shape and strides arrays are shared
/// with an input, and a released Storage is reused, so a call costs less than the bound).
/// </summary>
public sealed class DispatcherAllocationTests
{
    private const int Calls = 1000;

    /// <summary>Bytes of one Tensor object plus one Storage object, measured on this runtime.</summary>
    internal static long ResultObjectBytes()
    {
        using var t = Tensor.From<float>([1f], 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var view = t.Detach(); // a Tensor object over the same storage and arrays
        long tensorBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        view.Dispose();
        before = GC.GetAllocatedBytesForCurrentThread();
        var storage = RuntimeHelpers.GetUninitializedObject(typeof(Storage));
        long storageBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.SuppressFinalize(storage);
        return tensorBytes + storageBytes;
    }

    /// <summary>
    /// Fewest bytes per call over a few windows of <see cref="Calls"/> warmed-up calls: one window may
    /// see the runtime's own one-off work (a method re-jitted at a higher tier); a per-call allocation
    /// shows in every window.
    /// </summary>
    private static double BytesPerCall(Func<Tensor> call)
    {
        for (int i = 0; i < Calls; i++) call().Dispose();
        long fewest = long.MaxValue;
        for (int window = 0; window < 4; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++) call().Dispose();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return (double)fewest / Calls;
    }

    [Fact]
    public void Add_of_one_element_allocates_at_most_its_result_objects()
    {
        using var a = Tensor.From<float>([1f], 1);
        using var b = Tensor.From<float>([2f], 1);
        double perCall = BytesPerCall(() => a + b);
        Assert.True(perCall <= ResultObjectBytes(), $"a [1] + [1] Add allocates {perCall} bytes per call; its result objects take {ResultObjectBytes()}");
    }

    [Fact]
    public void Broadcast_add_of_a_row_allocates_at_most_its_result_objects()
    {
        using var m = Tensor.From<float>(new float[32], 4, 8);
        using var row = Tensor.From<float>(new float[8], 8);
        double perCall = BytesPerCall(() => m + row);
        Assert.True(perCall <= ResultObjectBytes(), $"a [4, 8] + [8] Add allocates {perCall} bytes per call; its result objects take {ResultObjectBytes()}");
    }

    [Fact]
    public void Adds_inside_scopes_allocate_at_most_their_result_objects()
    {
        // A training step's pattern: the scope, not the caller, releases the results; the next scope
        // reuses the list and the released storage objects.
        using var a = Tensor.From<float>([1f], 1);
        using var b = Tensor.From<float>([2f], 1);
        const int PerScope = 100, Scopes = Calls / PerScope;
        void Steps()
        {
            for (int s = 0; s < Scopes; s++)
            {
                using var scope = Engine.Scope();
                for (int i = 0; i < PerScope; i++) _ = a + b;
            }
        }
        Steps();
        long fewest = long.MaxValue;
        for (int window = 0; window < 4; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Steps();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        double perCall = (double)fewest / Calls;
        Assert.True(perCall <= ResultObjectBytes(), $"an Add inside a scope allocates {perCall} bytes per call; its result objects take {ResultObjectBytes()}");
    }

    [Fact]
    public void Strided_broadcast_add_allocates_at_most_its_result_graph()
    {
        // A transposed operand goes through the strided layout, which lives on the stack; the result is
        // [8, 4] with new shape and strides arrays of its own.
        using var m = Tensor.From<float>(new float[32], 4, 8);
        using var t = m.Transpose(0, 1);
        using var row = Tensor.From<float>(new float[4], 4);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var probe = new int[2];
        long arrays = 2 * (GC.GetAllocatedBytesForCurrentThread() - before);
        GC.KeepAlive(probe);
        double perCall = BytesPerCall(() => t + row);
        Assert.True(perCall <= ResultObjectBytes() + arrays, $"a transposed [8, 4] + [4] Add allocates {perCall} bytes per call; its result graph takes {ResultObjectBytes() + arrays}");
    }
}
