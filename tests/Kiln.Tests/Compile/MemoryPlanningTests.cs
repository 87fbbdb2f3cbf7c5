using Kiln.Compile;
using Kiln.Ops;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

public sealed class MemoryPlanningTests
{
    private static long Bytes(params int[] shape) => MemoryPlanningPass.BytesOf(new TensorSpec(Shape.Wrap(shape), DType.Float32));

    [Fact]
    public void An_elementwise_chain_runs_in_place_in_one_buffer()
    {
        var graph = Trace(xs => [xs[0].Exp().Neg().Abs().Sqrt()], Uniform(1, 5, 7));
        var plan = MemoryPlanningPass.Plan(graph);
        Assert.Equal(Bytes(5, 7), plan.ArenaBytes);
        Assert.Equal(2, plan.InPlace.Count); // Neg over Exp, Abs over Neg; Sqrt writes the returned tensor
        Assert.Same(graph.Nodes[3].Output, Assert.Single(plan.Returned));
    }

    [Fact]
    public void A_value_read_again_later_is_not_overwritten_in_place()
    {
        var graph = Trace(xs =>
        {
            var y = xs[0].Exp();
            return [y.Neg() + y];
        }, Uniform(1, 5, 7));
        var plan = MemoryPlanningPass.Plan(graph);
        Assert.Empty(plan.InPlace);
        Assert.Equal(2 * Bytes(5, 7), plan.ArenaBytes);
    }

    [Fact]
    public void A_viewed_value_is_not_overwritten_in_place_and_lives_as_long_as_its_views()
    {
        var graph = Trace(xs =>
        {
            var y = xs[0].Exp();
            var flat = y.Reshape(-1);
            return [(y.Neg().Reshape(-1) + flat).Sum()];
        }, Uniform(1, 4, 4));
        var plan = MemoryPlanningPass.Plan(graph);
        Assert.Empty(plan.InPlace);
        Assert.NotEqual(plan.Offsets[graph.Nodes[0].Output], plan.Offsets[graph.Nodes[2].Output]);
    }

    [Fact]
    public void Results_whose_lives_do_not_overlap_share_arena_bytes()
    {
        // MatMul is not elementwise, so nothing runs in place; at most two results are alive at once.
        var w = Uniform(9, 8, 8);
        var graph = Trace(xs => [xs[0].MatMul(w).MatMul(w).MatMul(w).MatMul(w)], Uniform(1, 8, 8));
        var plan = MemoryPlanningPass.Plan(graph);
        Assert.Equal(3, plan.Offsets.Count);
        Assert.Equal(2 * Bytes(8, 8), plan.ArenaBytes);
        Assert.Equal(plan.Offsets[graph.Nodes[0].Output], plan.Offsets[graph.Nodes[2].Output]);
    }

    [Fact]
    public void Offsets_are_aligned_for_every_dtype()
    {
        var graph = Trace(xs => [(xs[0].Gt(0).To(DType.Float64) + xs[0].To(DType.Float64).Exp()).Sum()], Uniform(1, 3, 5));
        var plan = MemoryPlanningPass.Plan(graph);
        foreach (var offset in plan.Offsets.Values) Assert.Equal(0, offset % 64);
    }

    [Fact]
    public void Planned_graphs_give_the_eager_bits()
    {
        var w = Uniform(9, 6, 6);
        Func<Tensor, Tensor> f = x =>
        {
            var y = x.Exp();
            var flat = y.Reshape(-1);
            var z = x.MatMul(w).Tanh().MatMul(w).Neg().Abs();
            return (y.Neg().Reshape(-1) + flat).Sum() + z.Sum(0).Sum() + (z * y).Mean();
        };
        using var compiled = Engine.Compile(f);
        for (int seed = 0; seed < 3; seed++)
        {
            var x = Uniform(seed, 6, 6);
            SameBits(f(x), compiled.Call(x), $"call {seed}");
        }
    }
}
