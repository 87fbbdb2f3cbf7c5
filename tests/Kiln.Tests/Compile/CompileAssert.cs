using Kiln.Compile;
using Kiln.Ops;

namespace Kiln.Tests.Compile;

/// <summary>Comparisons and inputs the compiler tests share.</summary>
internal static class CompileAssert
{
    /// <summary>Same shape, dtype and bytes (row-major), so compiled and eager agree bit for bit.</summary>
    internal static void SameBits(Tensor expected, Tensor actual, string what = "result")
    {
        Assert.True(expected.Shape == actual.Shape, $"{what}: shape {actual.Shape}, expected {expected.Shape}");
        Assert.True(expected.DType == actual.DType, $"{what}: dtype {actual.DType.Name()}, expected {expected.DType.Name()}");
        var e = RowMajorBytes(expected);
        var a = RowMajorBytes(actual);
        for (int i = 0; i < e.Length; i++)
            Assert.True(e[i] == a[i], $"{what}: byte {i} differs ({a[i]}, expected {e[i]})");
    }

    private static byte[] RowMajorBytes(Tensor t)
    {
        var dense = Tensor.Empty(t.ShapeArray, t.DType);
        Dispatcher.CopyInto(t, dense);
        using (dense) return dense.RawBytes().ToArray();
    }

    /// <summary>Float32 values uniform in [low, high) from a local generator (the global random stream is left alone).</summary>
    internal static Tensor Uniform(int seed, params int[] shape) => Uniform(seed, -1, 1, shape);

    internal static Tensor Uniform(int seed, double low, double high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(low + (high - low) * rng.NextDouble());
        return Tensor.From<float>(data, shape);
    }

    /// <summary>Traces <paramref name="function"/> on <paramref name="inputs"/> into a graph, before any pass.</summary>
    internal static Graph Trace(Func<Tensor[], Tensor[]> function, params Tensor[] inputs)
        => GraphTracer.Capture("function", function, inputs, listState: null).Tracer.Graph;

    /// <summary>Runs one pass, then the verifier, and returns the graph as text.</summary>
    internal static string AfterPass(Graph graph, GraphPass pass)
    {
        GraphVerifier.Verify(graph, "tracing");
        pass.Run(graph);
        GraphVerifier.Verify(graph, pass.Name);
        return graph.ToString();
    }

    /// <summary>Text lines joined with newlines, ending in one, as the printer writes them.</summary>
    internal static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";
}
