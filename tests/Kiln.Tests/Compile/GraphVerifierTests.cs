using Kiln.Compile;
using Kiln.Ops;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

public sealed class GraphVerifierTests
{
    private static Graph Small() => Trace(xs => [xs[0].Exp().Neg() * 2.0], Uniform(1, 2, 3));

    [Fact]
    public void A_traced_graph_is_valid()
    {
        Assert.Null(GraphVerifier.FindProblem(Small()));
    }

    [Fact]
    public void A_use_before_its_definition_is_caught()
    {
        var graph = Small();
        (graph.Nodes[0], graph.Nodes[1]) = (graph.Nodes[1], graph.Nodes[0]);
        Assert.Equal("node %0 (Neg) uses %1 (input 0) before its definition", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void A_value_the_graph_does_not_define_is_caught()
    {
        var graph = Small();
        graph.Nodes[1].Inputs[0] = new GraphValue(ValueKind.Input, new TensorSpec(new Shape(2, 3), DType.Float32));
        Assert.Equal("node %1 (Neg) uses a value the graph does not define (input 0, [2,3] f32)", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void A_result_spec_that_differs_from_the_op_inference_is_caught()
    {
        var graph = Small();
        var node = new GraphNode(ExpOp.Instance, NoAttributes.Instance, [graph.Inputs[0]], new TensorSpec(new Shape(3, 2), DType.Float32));
        graph.Nodes.Insert(0, node);
        Assert.Equal("node %0 (Exp) is declared [3,2] f32 but its op infers [2,3] f32", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void A_node_whose_inputs_do_not_type_check_is_caught()
    {
        var graph = Small();
        var other = graph.AddInput(new TensorSpec(new Shape(4), DType.Float32), dense: true);
        graph.Nodes.Add(new GraphNode(AddOp.Instance, NoAttributes.Instance, [graph.Nodes[0].Output, other], new TensorSpec(new Shape(2, 3), DType.Float32)));
        var problem = GraphVerifier.FindProblem(graph);
        Assert.StartsWith("node %3 (Add) does not type-check: Add: shapes [2, 3] and [4] do not broadcast", problem);
    }

    [Fact]
    public void Attributes_of_another_op_are_caught()
    {
        var graph = Small();
        graph.Nodes.Add(new GraphNode(ExpOp.Instance, new ReshapeOp.Attributes(new IntList(6)), [graph.Inputs[0]], new TensorSpec(new Shape(2, 3), DType.Float32)));
        Assert.Equal("node %3 (Exp) has attributes Attributes, expected NoAttributes", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void A_value_defined_twice_is_caught()
    {
        var graph = Small();
        graph.Nodes.Add(graph.Nodes[0]);
        Assert.Equal("node %0 (Exp) defines %0 a second time", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void An_undefined_or_missing_output_is_caught()
    {
        var graph = Small();
        graph.Outputs[0] = new GraphValue(ValueKind.Node, new TensorSpec(new Shape(2), DType.Float32));
        Assert.Equal("output 0 ([2] f32) is not defined by the graph", GraphVerifier.FindProblem(graph));
        graph.Outputs.Clear();
        Assert.Equal("the graph has no outputs", GraphVerifier.FindProblem(graph));
    }

    [Fact]
    public void A_disposed_constant_is_caught()
    {
        var graph = Small();
        graph.Constants[0].Data!.Dispose();
        Assert.Equal("constant %c0 has no data", GraphVerifier.FindProblem(graph));
    }

    private sealed class BreakingPass : GraphPass
    {
        internal override string Name => "BreakingPass";

        internal override bool Run(Graph graph)
        {
            graph.Nodes.RemoveAt(0);
            return true;
        }
    }

    [Fact]
    public void The_pipeline_names_the_pass_that_broke_the_graph_and_prints_it()
    {
        var graph = Small();
        var e = Assert.Throws<KilnException>(() => PassPipeline.Run(graph, [new DeadCodeElimination(), new BreakingPass()], dumpDirectory: null));
        Assert.StartsWith("graph function is invalid after BreakingPass: node %0 (Neg) uses a value the graph does not define (input 0, [2,3] f32)\ngraph function(", e.Message);
    }
}
