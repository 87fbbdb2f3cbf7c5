using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO.TensorBoard;

[Collection(RandomStateCollection.Name)]
public sealed class GraphTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-tensorboard-graph-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TbGraph WriteAndRead(Module model, Tensor input)
    {
        string path;
        using (var writer = new SummaryWriter(_dir))
        {
            path = writer.FilePath;
            writer.AddGraph(model, input);
        }
        var events = TestEventReader.ReadFile(path);
        Assert.Equal(2, events.Count);
        Assert.Equal(0, events[1].Step);
        return events[1].Graph!;
    }

    private static long[] OutputShape(TbNode node) => Assert.Single(node.Attrs["_output_shapes"].Shapes!);

    [Fact]
    public void AddGraph_writes_one_node_per_leaf_call_wired_in_data_order()
    {
        var model = new Sequential(new Linear(4, 8), new Relu(), new Linear(8, 2));
        using var x = Tensor.Zeros([3, 4]);

        var graph = WriteAndRead(model, x);

        Assert.Equal(22, graph.Producer);
        Assert.Equal(["input", "model/0", "model/1", "model/2", "output"], graph.Nodes.Select(n => n.Name));
        Assert.Equal(["Placeholder", "Linear", "ReLU", "Linear", "Identity"], graph.Nodes.Select(n => n.Op));
        Assert.Equal([[], ["input"], ["model/0"], ["model/1"], ["model/2"]], graph.Nodes.Select(n => n.Inputs.ToArray()));
        Assert.Equal([3L, 4L], OutputShape(graph.Nodes[0]));
        Assert.Equal(1, graph.Nodes[0].Attrs["dtype"].Type); // DT_FLOAT
        Assert.Equal([3L, 8L], OutputShape(graph.Nodes[1]));
        Assert.Equal([3L, 8L], OutputShape(graph.Nodes[2]));
        Assert.Equal([3L, 2L], OutputShape(graph.Nodes[3]));
        Assert.Equal([3L, 2L], OutputShape(graph.Nodes[4]));
        Assert.Equal("Linear(in_features=4, out_features=8, bias=True)", graph.Nodes[1].Attrs["module"].S);
        Assert.Equal(40, graph.Nodes[1].Attrs["parameters"].I);
        Assert.Equal(0, graph.Nodes[2].Attrs["parameters"].I ?? 0);
    }

    [Fact]
    public void AddGraph_nests_containers_as_name_scopes_and_restores_training_mode()
    {
        var model = new Sequential(new (string, Module)[]
        {
            ("features", new Sequential(new Linear(2, 3), new Dropout(0.5))),
            ("head", new Linear(3, 1)),
        });
        model.Train();
        model.Children().First().Eval();
        using var x = Tensor.Zeros([5, 2]);

        var graph = WriteAndRead(model, x);

        Assert.Equal(["input", "model/features/0", "model/features/1", "model/head", "output"], graph.Nodes.Select(n => n.Name));
        Assert.Equal(["model/features/1"], graph.Nodes[3].Inputs);
        Assert.True(model.IsTraining);
        Assert.False(model.Children().First().IsTraining);
        Assert.True(model.Modules().Last().IsTraining);
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
    }

    private sealed class Residual : Module
    {
        private readonly Linear _fc = new(3, 3);
        private readonly Relu _act = new();

        public override Tensor Forward(Tensor input)
        {
            var h = _act.Call(_fc.Call(input));
            return _act.Call(_fc.Call(h)) + input;
        }
    }

    [Fact]
    public void AddGraph_names_repeated_calls_apart_and_wires_untracked_tensors_by_call_order()
    {
        using var x = Tensor.Zeros([2, 3]);

        var graph = WriteAndRead(new Residual(), x);

        Assert.Equal(["input", "model/fc", "model/act", "model/fc_1", "model/act_1", "output"], graph.Nodes.Select(n => n.Name));
        Assert.Equal(["model/act"], graph.Nodes[3].Inputs);
        // The residual addition happens in Residual.Forward, not in a module: the output is wired to the last call.
        Assert.Equal(["model/act_1"], graph.Nodes[5].Inputs);
    }

    [Fact]
    public void AddGraph_of_a_single_leaf_module_names_it_model()
    {
        using var x = Tensor.Zeros([1, 2]);
        var graph = WriteAndRead(new Linear(2, 2), x);
        Assert.Equal(["input", "model", "output"], graph.Nodes.Select(n => n.Name));
        Assert.Equal(["model"], graph.Nodes[2].Inputs);
    }

    [Fact]
    public void AddGraph_restores_training_mode_and_writes_nothing_when_the_forward_fails()
    {
        var model = new Sequential(new Linear(4, 2));
        using var wrong = Tensor.Zeros([1, 3]);
        string path;
        using (var writer = new SummaryWriter(_dir))
        {
            path = writer.FilePath;
            Assert.Throws<KilnShapeException>(() => writer.AddGraph(model, wrong));
        }
        Assert.True(model.IsTraining);
        Assert.Single(TestEventReader.ReadFile(path));
    }
}
