using Kiln.NN;
using Kiln.Tests.Ops;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Compile;

/// <summary>
/// At steady state a compiled call allocates nothing but the tensor it returns (nothing at all when
/// the caller passes it in), and the memory pool does not grow: every intermediate lives in the
/// arena planned at the trace. Measured with the thread's allocation counter over 1,000 replays.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class CompiledAllocationTests
{
    private const int Calls = 1000;

    /// <summary>Bytes of one Tensor object plus one Storage object: what a returned result costs.</summary>
    private static long ResultObjectBytes() => DispatcherAllocationTests.ResultObjectBytes();

    /// <summary>Fewest bytes per call over a few windows of warmed-up calls (one window may see the runtime's own one-off work).</summary>
    private static double BytesPerCall(Action call)
    {
        for (int i = 0; i < 50; i++) call();
        long fewest = long.MaxValue;
        for (int window = 0; window < 2; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++) call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return (double)fewest / Calls;
    }

    private static Sequential EvalMlp()
    {
        Engine.ManualSeed(11);
        var model = new Sequential(new Flatten(), new Linear(196, 32), new Relu(), new Linear(32, 16), new Relu(), new Linear(16, 10));
        model.Eval();
        return model;
    }

    [Fact]
    public void A_compiled_mlp_call_allocates_only_its_result_and_the_pool_does_not_grow()
    {
        var model = EvalMlp();
        using var compiled = Engine.Compile(model);
        using var x = CompileAssert.Uniform(1, 1, 1, 14, 14); // Flatten views the input: a view re-aimed at each call
        compiled.Call(x).Dispose();
        var before = MemoryCollection.Settle();
        double perCall = BytesPerCall(() => compiled.Call(x).Dispose());
        var after = MemoryCollection.Settle();
        Assert.True(perCall <= ResultObjectBytes(), $"a compiled MLP call allocates {perCall} bytes; its result objects take {ResultObjectBytes()}");
        Assert.Equal(before.NativeAllocations, after.NativeAllocations);
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        Assert.Equal(1, compiled.TraceCount);
    }

    [Fact]
    public void A_compiled_mlp_call_into_a_given_tensor_allocates_nothing()
    {
        var model = EvalMlp();
        using var compiled = Engine.Compile(model);
        using var x = CompileAssert.Uniform(2, 4, 1, 14, 14);
        using var output = Tensor.Zeros([4, 10]);
        compiled.CallInto(x, output);
        var before = MemoryCollection.Settle();
        double perCall = BytesPerCall(() => compiled.CallInto(x, output));
        var after = MemoryCollection.Settle();
        Assert.Equal(0, perCall);
        Assert.Equal(before.NativeAllocations, after.NativeAllocations);
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        using (Engine.NoGrad()) CompileAssert.SameBits(model.Call(x), output);
    }

    [Fact]
    public void A_fused_elementwise_chain_runs_its_tiles_without_allocating()
    {
        using var b = CompileAssert.Uniform(6, 129);
        Func<Tensor, Tensor> f = x => ((x + b).Tanh() * 0.5 + x).Relu();
        using var compiled = Engine.Compile(f);
        using var x = CompileAssert.Uniform(5, 70, 129); // several tiles, the bias broadcast in each
        using var output = Tensor.Zeros([70, 129]);
        compiled.CallInto(x, output);
        Assert.Contains("FusedElementwise", compiled.GraphText);
        var before = MemoryCollection.Settle();
        double perCall = BytesPerCall(() => compiled.CallInto(x, output));
        var after = MemoryCollection.Settle();
        Assert.Equal(0, perCall);
        Assert.Equal(before.NativeAllocations, after.NativeAllocations);
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        using (Engine.NoGrad()) CompileAssert.SameBits(f(x), output);
    }

    [Fact]
    public void A_compiled_cnn_call_keeps_the_pool_from_growing()
    {
        Engine.ManualSeed(12);
        var model = new Sequential(new Conv2d(1, 4, kernelSize: 3, padding: 1), new Relu(), new MaxPool2d(2), new Flatten(), new Linear(4 * 14 * 14, 10));
        model.Eval();
        using var compiled = Engine.Compile(model);
        using var x = CompileAssert.Uniform(3, 0.0, 1.0, 2, 1, 28, 28);
        using var output = Tensor.Zeros([2, 10]);
        compiled.CallInto(x, output);
        var before = MemoryCollection.Settle();
        for (int i = 0; i < 200; i++) compiled.CallInto(x, output);
        var after = MemoryCollection.Settle();
        Assert.Equal(before.NativeAllocations, after.NativeAllocations);
        Assert.Equal(before.BytesInUse, after.BytesInUse);
    }

    [Fact]
    public void Disposing_a_compiled_function_returns_its_arena_and_constants()
    {
        MemoryCollection.WarmScalars(3.0, 1.0); // the thread's scalar operands stay cached whatever the graph does
        var before = MemoryCollection.Settle();
        var compiled = Engine.Compile(x => (x * 3.0 + 1.0).Exp().Sum(1));
        using (var x = CompileAssert.Uniform(4, 64, 64))
        {
            compiled.Call(x).Dispose();
            compiled.Call(x).Dispose();
        }
        Assert.True(Engine.MemoryStats().BytesInUse > before.BytesInUse);
        compiled.Dispose();
        Assert.Equal(before.BytesInUse, MemoryCollection.Settle().BytesInUse);
    }
}
