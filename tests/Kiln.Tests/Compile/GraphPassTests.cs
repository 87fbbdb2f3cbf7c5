using Kiln.Compile;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

/// <summary>Each pass on a small traced graph, its effect read from the printed graph (the verifier runs before and after).</summary>
public sealed class GraphPassTests
{
    [Fact]
    public void Dead_code_elimination_removes_unused_nodes_and_the_constants_only_they_read()
    {
        var graph = Trace(xs =>
        {
            _ = (xs[0].Exp() * 3.0).Sum();
            return [xs[0].Neg()];
        }, Uniform(1, 2, 3));
        Assert.Equal(Lines(
            "graph function(%in0: [2,3] f32)",
            "  const %c0: [] f32 = 3",
            "  %0 = Exp(%in0) : [2,3] f32",
            "  %1 = Mul(%0, %c0) : [2,3] f32",
            "  %2 = Sum(%1) { Axes = [], KeepDim = False } : [] f32",
            "  %3 = Neg(%in0) : [2,3] f32",
            "  return %3"), graph.ToString());
        Assert.Equal(Lines(
            "graph function(%in0: [2,3] f32)",
            "  %0 = Neg(%in0) : [2,3] f32",
            "  return %0"), AfterPass(graph, new DeadCodeElimination()));
    }

    [Fact]
    public void Common_subexpression_elimination_merges_equal_nodes_and_equal_constants()
    {
        var graph = Trace(xs =>
        {
            var x = xs[0];
            return [x.Exp() * Tensor.Scalar(2) + x.Exp() * Tensor.Scalar(2), x.Sum(1) - x.Sum(0).Sum() + x.Sum(1)];
        }, Uniform(1, 2, 3));
        Assert.Equal(Lines(
            "graph function(%in0: [2,3] f32)",
            "  const %c0: [] f32 = 2",
            "  %0 = Exp(%in0) : [2,3] f32",
            "  %1 = Mul(%0, %c0) : [2,3] f32",
            "  %2 = Add(%1, %1) : [2,3] f32",
            "  %3 = Sum(%in0) { Axes = [1], KeepDim = False } : [2] f32",
            "  %4 = Sum(%in0) { Axes = [0], KeepDim = False } : [3] f32",
            "  %5 = Sum(%4) { Axes = [], KeepDim = False } : [] f32",
            "  %6 = Sub(%3, %5) : [2] f32",
            "  %7 = Add(%6, %3) : [2] f32",
            "  return %2, %7"), AfterPass(graph, new CommonSubexpressionElimination()));
    }

    [Fact]
    public void Common_subexpression_elimination_keeps_nodes_whose_attributes_differ()
    {
        var graph = Trace(xs => [xs[0].Sum(0).Sum() + xs[0].Sum(1).Sum()], Uniform(1, 2, 2));
        var text = AfterPass(graph, new CommonSubexpressionElimination());
        Assert.Contains("Sum(%in0) { Axes = [0], KeepDim = False }", text);
        Assert.Contains("Sum(%in0) { Axes = [1], KeepDim = False }", text);
        Assert.Equal(5, graph.Nodes.Count);
    }

    [Fact]
    public void Constant_folding_computes_nodes_of_constants_once_including_views()
    {
        var table = Tensor.From<float>([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var graph = Trace(xs => [xs[0] + table.Transpose(0, 1).Sum(1) * 2.0], Uniform(1, 4, 3));
        var text = AfterPass(graph, new ConstantFolding());
        Assert.Equal(Lines(
            "graph function(%in0: [4,3] f32)",
            "  const %c0: [2,3] f32 = [1, 2, 3, 4, 5, 6]",
            "  const %c1: [] f32 = 2",
            "  const %c2: [3,2] f32 = [1, 4, 2, 5, 3, 6]",
            "  const %c3: [3] f32 = [5, 7, 9]",
            "  const %c4: [3] f32 = [10, 14, 18]",
            "  %0 = Add(%in0, %c4) : [4,3] f32",
            "  return %0"), text);
    }

    [Fact]
    public void Constant_folding_leaves_parameters_alone()
    {
        var weight = Uniform(2, 3);
        weight.RequiresGrad = true;
        var graph = Trace(xs => [xs[0] * (weight * 2.0)], Uniform(1, 3));
        AfterPass(graph, new ConstantFolding());
        Assert.Equal(2, graph.Nodes.Count);
        Assert.Single(graph.Parameters);
    }

    [Fact]
    public void Algebraic_simplification_drops_exact_identities_and_keeps_the_rest()
    {
        var graph = Trace(xs =>
        {
            var x = xs[0];
            return [((x * 1.0) / 1.0 - 0.0) + Tensor.Scalar(-0.0), 1.0 * x + 0.0, x * Tensor.Ones([2, 3])];
        }, Uniform(1, 3));
        var text = AfterPass(graph, new AlgebraicSimplification());
        new DeadCodeElimination().Run(graph);
        Assert.Equal(Lines(
            "graph function(%in0: [3] f32)",
            "  const %c0: [] f32 = 0",
            "  const %c1: [2,3] f32 = [1, 1, 1, 1, 1, 1]",
            "  %0 = Add(%in0, %c0) : [3] f32",
            "  %1 = Mul(%in0, %c1) : [2,3] f32",
            "  return %in0, %0, %1"), graph.ToString());
        Assert.Contains("Add(%in0, %c", text);
    }

    [Fact]
    public void Algebraic_simplification_merges_view_chains()
    {
        var graph = Trace(xs =>
        {
            var x = xs[0];
            return [x.Transpose(0, 1).Transpose(0, 1).Exp(), x.Permute(1, 2, 0).Permute(2, 0, 1).Neg(), x.Reshape(6, 4).Reshape(4, 6).Reshape(-1).Abs(), x.Reshape(2, 3, 4).Sqrt()];
        }, Uniform(1, 0.0, 1.0, 2, 3, 4));
        AfterPass(graph, new AlgebraicSimplification());
        Assert.Equal(Lines(
            "graph function(%in0: [2,3,4] f32)",
            "  %0 = Exp(%in0) : [2,3,4] f32",
            "  %1 = Neg(%in0) : [2,3,4] f32",
            "  %2 = Reshape(%in0) { Shape = [24] } : [24] f32",
            "  %3 = Abs(%2) : [24] f32",
            "  %4 = Sqrt(%in0) : [2,3,4] f32",
            "  return %0, %1, %3, %4"), AfterPass(graph, new DeadCodeElimination()));
    }

    [Fact]
    public void A_reshape_of_a_reshape_of_a_strided_input_is_not_merged()
    {
        var strided = Uniform(1, 4, 6).Transpose(0, 1); // [6, 4], not dense
        var graph = Trace(xs => [xs[0].Reshape(3, 2, 4).Reshape(6, 4).Neg()], strided);
        AfterPass(graph, new AlgebraicSimplification());
        Assert.Equal(Lines(
            "graph function(%in0: [6,4] f32)",
            "  %0 = Reshape(%in0) { Shape = [3, 2, 4] } : [3,2,4] f32",
            "  %1 = Reshape(%0) { Shape = [6, 4] } : [6,4] f32",
            "  %2 = Neg(%1) : [6,4] f32",
            "  return %2"), AfterPass(graph, new DeadCodeElimination()));
    }

    [Fact]
    public void The_default_and_lowering_passes_keep_the_results_of_a_graph_that_exercises_them_all()
    {
        Func<Tensor, Tensor> f = x => ((x * 1.0).Exp() + (x * 1.0).Exp()).Transpose(0, 1).Transpose(0, 1) + Tensor.Ones([3]) * 2.0;
        using var compiled = Engine.Compile(f);
        var x = Uniform(1, 2, 3);
        compiled.Call(x);
        CompileAssert.SameBits(f(x), compiled.Call(x));
        Assert.Equal(Lines(
            "graph function(%in0: [2,3] f32)",
            "  const %c0: [3] f32 = [2, 2, 2]",
            "  %0 = FusedElementwise(%in0, %c0) { s0 = Exp(in0) : [2,3] f32; s1 = Add(s0, s0) : [2,3] f32; s2 = Add(s1, in1) : [2,3] f32 } : [2,3] f32",
            "  return %0"), compiled.GraphText);
    }
}
