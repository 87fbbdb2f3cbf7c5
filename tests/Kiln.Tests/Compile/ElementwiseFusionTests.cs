using Kiln.Compile;
using Kiln.Ops;

namespace Kiln.Tests.Compile;

/// <summary>
/// Elementwise fusion: chains become one tiled FusedElementwise node whose results equal the unfused
/// ops' bit for bit (each step runs its own kernel on each tile), and values used elsewhere, views,
/// dtype changes and broadcast operands are handled.
/// </summary>
public sealed class ElementwiseFusionTests
{
    private static Tensor Eager(Func<Tensor[], Tensor[]> f, Tensor[] inputs, int k = 0)
    {
        using (Engine.NoGrad()) return f(inputs)[k];
    }

    private static Tensor Random(int seed, DType dtype, params int[] shape) => CompileAssert.Uniform(seed, -2, 2, shape).To(dtype);

    /// <summary>Calls the compiled function twice (the trace, then a replay) and checks the replay against eager, bit for bit.</summary>
    private static string CheckReplay(Func<Tensor[], Tensor[]> f, params Tensor[] inputs)
    {
        using var compiled = Engine.Compile(f);
        compiled.Invoke(inputs);
        var replayed = compiled.Invoke(inputs);
        for (int k = 0; k < replayed.Length; k++)
            CompileAssert.SameBits(Eager(f, inputs, k), replayed[k], $"output {k}");
        Assert.Equal(1, compiled.TraceCount);
        return compiled.GraphText;
    }

    public static TheoryData<string, int[], int[]> Shapes => new()
    {
        { "float32", [7, 13], [13] },
        { "float64", [7, 13], [13] },
        { "float32", [3, 1000, 7], [1000, 1] },
        { "float64", [5000], [1] },
        { "float32", [2, 3, 37, 41], [3, 1, 1] },
        { "float32", [129, 65], [129, 1] },
        { "float32", [1], [1] },
        { "float32", [], [] },
        { "float32", [4, 0, 3], [3] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_chain_of_unary_and_binary_ops_with_broadcasting_equals_the_unfused_ops_bit_for_bit(string dtype, int[] shape, int[] bias)
    {
        var type = dtype == "float64" ? DType.Float64 : DType.Float32;
        Func<Tensor[], Tensor[]> f = t =>
        {
            var (x, b) = (t[0], t[1]);
            var y = (x * 1.7 + b).Tanh();
            var z = (y - x).Exp() * y.Sigmoid();
            return [(z / (b.Abs() + 1.0)).Relu().Gelu()];
        };
        var text = CheckReplay(f, Random(1, type, shape), Random(2, type, bias));
        if (shape.Length > 0 && !shape.Contains(0))
        {
            Assert.Contains("= FusedElementwise(", text);
            Assert.DoesNotContain("= Tanh(%", text);
        }
    }

    [Fact]
    public void Bias_add_and_relu_after_a_matmul_fuse_into_one_node_reading_the_bias_broadcast()
    {
        Func<Tensor[], Tensor[]> f = t => [(t[0].MatMul(t[1]) + t[2]).Relu()];
        var text = CheckReplay(f, Random(3, DType.Float32, 33, 50), Random(4, DType.Float32, 50, 70), Random(5, DType.Float32, 70));
        Assert.Contains("%1 = FusedElementwise(%0, %in2) { s0 = Add(in0, in1) : [33,70] f32; s1 = Relu(s0) : [33,70] f32 } : [33,70] f32", text);
    }

    [Fact]
    public void A_value_used_outside_the_chain_stays_materialized()
    {
        Func<Tensor[], Tensor[]> f = t =>
        {
            var a = (t[0] * 2.0).Exp();
            return [a, (a + 1.0).Relu()];
        };
        var text = CheckReplay(f, Random(6, DType.Float32, 9, 300));
        // Exp's result is returned, so it ends the first group and starts the second.
        Assert.Contains("%0 = FusedElementwise(%in0, %c0) { s0 = Mul(in0, in1) : [9,300] f32; s1 = Exp(s0) : [9,300] f32 }", text);
        Assert.Contains("%1 = FusedElementwise(%0, %c1) { s0 = Add(in0, in1) : [9,300] f32; s1 = Relu(s0) : [9,300] f32 }", text);
    }

    [Fact]
    public void A_value_read_by_another_op_is_not_fused_away()
    {
        Func<Tensor[], Tensor[]> f = t =>
        {
            var a = t[0].Exp();
            return [(a + 1.0).Relu() + a.Sum(1, keepDim: true)];
        };
        var text = CheckReplay(f, Random(7, DType.Float64, 11, 17));
        Assert.Contains("= Exp(%in0)", text);
    }

    [Fact]
    public void Strided_views_and_dtype_changes_inside_a_chain_keep_the_unfused_bits()
    {
        Func<Tensor[], Tensor[]> f = t =>
        {
            var x = t[0].Transpose(0, 1);
            var positive = x.Gt(0.25);
            return [Tensor.Where(positive, x * 3.0, (x - 1.0).Exp()).Sigmoid()];
        };
        var text = CheckReplay(f, Random(8, DType.Float32, 70, 45));
        Assert.Contains("Gt(", text);
        Assert.Contains("= FusedElementwise(", text);
    }

    [Fact]
    public void A_long_chain_reuses_scratch_tiles_and_equals_the_unfused_ops_across_many_tiles()
    {
        Func<Tensor[], Tensor[]> f = t =>
        {
            var x = t[0];
            for (int i = 0; i < 8; i++) x = (x * 0.9 + t[1]).Tanh();
            return [x];
        };
        CheckReplay(f, Random(9, DType.Float32, 301, 127), Random(10, DType.Float32, 127));
    }

    [Fact]
    public void Results_too_large_for_one_thread_are_left_to_the_threaded_kernels()
    {
        Func<Tensor[], Tensor[]> f = t => [(t[0] + 1.0).Relu()];
        var text = CheckReplay(f, Random(11, DType.Float32, 2, (int)ElementwiseFusionPass.MaxElements));
        Assert.DoesNotContain("FusedElementwise", text);
    }

    [Fact]
    public void The_verifier_names_a_fused_step_whose_spec_is_wrong()
    {
        var graph = CompileAssert.Trace(t => [(t[0] + 1.0).Relu()], Random(12, DType.Float32, 4, 5));
        new ElementwiseFusionPass().Run(graph);
        Assert.Null(GraphVerifier.FindProblem(graph));
        var node = graph.Nodes.Single(n => n.Op is FusedElementwiseOp);
        var a = (FusedElementwiseAttributes)node.Attributes;
        var wrong = a with { Steps = [a.Steps[0] with { Spec = new TensorSpec(new Shape(4, 6), DType.Float32) }, a.Steps[1]] };
        graph.Nodes[graph.Nodes.IndexOf(node)] = new GraphNode(node.Op, wrong, node.Inputs, node.Output.Spec);
        graph.Outputs[0] = graph.Nodes[^1].Output;
        var problem = GraphVerifier.FindProblem(graph);
        Assert.NotNull(problem);
        Assert.Contains("does not type-check: FusedElementwise: step s0 (Add) is declared [4,6] f32 but infers [4,5] f32", problem);
    }

    [Fact]
    public void Fusion_runs_after_the_portable_passes_and_is_dumped()
    {
        var directory = Path.Combine(Path.GetTempPath(), "kiln-fusion-dump-" + Guid.NewGuid().ToString("N"));
        try
        {
            var graph = CompileAssert.Trace(t => [(t[0] * 2.0).Relu()], Random(13, DType.Float32, 3, 4));
            var options = new CompileOptions();
            var (portableGraph, executed) = PassPipeline.Optimize(graph, options, directory);
            var portable = portableGraph.ToString();
            executed.DisposeConstants();
            var files = Directory.GetFiles(directory).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(8, files.Length);
            Assert.EndsWith(".05-GemmWeightPrepacking.txt", files[5]);
            Assert.EndsWith(".06-Conv2dFusionPass.txt", files[6]);
            Assert.EndsWith(".07-ElementwiseFusionPass.txt", files[7]);
            Assert.Contains("= Mul(%in0, %c0)", portable);
            Assert.Contains("FusedElementwise(%in0, %c0) { s0 = Mul(in0, in1) : [3,4] f32; s1 = Relu(s0) : [3,4] f32 }", File.ReadAllText(Path.Combine(directory, files[7])));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
