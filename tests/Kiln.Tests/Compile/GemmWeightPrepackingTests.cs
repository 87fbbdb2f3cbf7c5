using Kiln.Compile;
using Kiln.NN;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

/// <summary>
/// The pass that packs constant GEMM weights at compile time: which nodes it rewrites, and that the
/// compiled results keep the eager bits (odd sizes, both weight layouts, batch 1 and a batch that
/// spreads over threads, leading batch dimensions, a strided input).
/// </summary>
public sealed class GemmWeightPrepackingTests
{
    [Fact]
    public void Linear_and_matmul_with_constant_weights_become_prepacked_nodes()
    {
        var w1 = Uniform(1, 17, 13);
        var b1 = Uniform(2, 17);
        var w2 = Uniform(3, 17, 5);
        var graph = Trace(xs => [F.Linear(xs[0], w1, b1).MatMul(w2), F.Linear(xs[0], w1)], Uniform(4, 3, 13));
        var text = AfterPass(graph, new GemmWeightPrepacking());
        Assert.Contains("PrepackedLinear(%in0, %c0, %c1) { TransposeB = True, Packed = 13x17 ", text);
        Assert.Contains("{ TransposeB = False, Packed = 17x5 ", text);
        Assert.DoesNotContain("= Linear(", text);
        Assert.DoesNotContain("= MatMul(", text);
        Assert.Equal(3, graph.Nodes.Count);
    }

    [Fact]
    public void Weights_that_require_grad_or_are_computed_are_not_prepacked()
    {
        var w = Uniform(1, 6, 4);
        w.RequiresGrad = true;
        var graph = Trace(xs => [F.Linear(xs[0], w), xs[0].MatMul(xs[1]), xs[1].MatMul(xs[0])], Uniform(2, 3, 4), Uniform(3, 4, 3));
        var text = AfterPass(graph, new GemmWeightPrepacking());
        Assert.DoesNotContain("PrepackedLinear", text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(200)]
    public void Compiled_mlp_with_constant_weights_gives_the_eager_bits(int batch)
    {
        // Odd sizes around the 6x16 tile and across a 256-deep block; fc2 has no bias (a MatMul).
        var w1 = Uniform(11, 67, 301);
        var b1 = Uniform(12, 67);
        var w2 = Uniform(13, 19, 67);
        var w3 = Uniform(14, 10, 19);
        var b3 = Uniform(15, 10);
        Func<Tensor, Tensor> mlp = x => F.Linear(F.Linear(F.Linear(x, w1, b1).Relu(), w2).Relu(), w3, b3);
        using var compiled = Engine.Compile(mlp);
        var x = Uniform(16, batch, 301);
        compiled.Call(x);
        Assert.Contains("PrepackedLinear", compiled.GraphText);
        SameBits(mlp(x), compiled.Call(x), $"batch {batch}");
    }

    [Fact]
    public void Prepacked_product_keeps_the_bits_for_batched_and_strided_inputs()
    {
        var w = Uniform(21, 40, 33);
        var b = Uniform(22, 33);
        Func<Tensor, Tensor> f = x => x.MatMul(w) + F.Linear(x, w.Transpose(0, 1).Contiguous(), b);
        using var compiled = Engine.Compile(f);
        var batched = Uniform(23, 2, 7, 40);
        compiled.Call(batched);
        SameBits(f(batched), compiled.Call(batched), "batched");
        var strided = Uniform(24, 40, 9).Transpose(0, 1);
        SameBits(f(strided), compiled.Call(strided), "strided");
        Assert.Contains("PrepackedLinear", compiled.GraphText);
    }
}
