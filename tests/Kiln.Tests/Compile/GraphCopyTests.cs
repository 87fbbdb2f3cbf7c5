using Kiln.Compile;

namespace Kiln.Tests.Compile;

/// <summary>
/// The seam between portable and lowering passes: lowering rewrites a copy of the portable graph
/// (what a .kiln file saves), so the copy must be independent of the original while sharing its
/// constants' memory and its parameters.
/// </summary>
public sealed class GraphCopyTests
{
    [Fact]
    public void A_rewritten_copy_leaves_the_original_graph_and_its_constants_intact()
    {
        var weight = CompileAssert.Uniform(1, 3, 3);
        weight.RequiresGrad = true;
        var offset = CompileAssert.Uniform(2, 3);
        var graph = CompileAssert.Trace(xs => [xs[0].MatMul(weight) + offset, xs[0].Exp()], CompileAssert.Uniform(3, 2, 3));
        var text = graph.ToString();

        var copy = graph.Copy();
        Assert.Equal(text, copy.ToString());
        Assert.Same(graph.Parameters[0].Data, copy.Parameters[0].Data);
        Assert.True(copy.Constants[0].Data!.SharesStorageWith(graph.Constants[0].Data!));

        // A pass on the copy that drops the first output and with it the constant (disposing the copy's tensor).
        copy.Outputs.RemoveAt(0);
        PassPipeline.Run(copy, [new DeadCodeElimination()], dumpDirectory: null);
        Assert.Empty(copy.Constants);
        Assert.Equal(text, graph.ToString());
        Assert.Null(GraphVerifier.FindProblem(graph));
        Assert.Equal(offset.ToArray<float>(), graph.Constants[0].Data!.ToArray<float>());
        graph.DisposeConstants();
    }

    [Fact]
    public void Lowering_rewrites_a_copy_and_leaves_the_portable_graph_of_registered_ops()
    {
        var graph = CompileAssert.Trace(xs => [(xs[0] * 1 + 2).Exp()], CompileAssert.Uniform(3, 2, 3));
        var (portable, executed) = PassPipeline.Optimize(graph, new CompileOptions(), dumpDirectory: null);
        Assert.Same(graph, portable);
        Assert.NotSame(portable, executed);
        Assert.DoesNotContain("Mul", portable.ToString());
        Assert.Contains("Exp", portable.ToString());
        Assert.DoesNotContain("FusedElementwise", portable.ToString());
        Assert.Contains("FusedElementwise", executed.ToString());
        executed.DisposeConstants();
        portable.DisposeConstants();
    }
}
