using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

[Collection(RandomStateCollection.Name)]
public sealed class FunctionalModelTests
{
    [Fact]
    public void Two_input_two_output_model_computes_what_the_hand_written_composition_computes()
    {
        Engine.ManualSeed(3);
        var conv = new Conv2d(1, 4, 3);
        var relu = new Relu();
        var flatten = new Flatten();
        var meta = new Linear(5, 6);
        var classes = new Linear(4 * 4 * 4 + 6, 3);
        var score = new Linear(4 * 4 * 4 + 6, 1);
        var image = Model.Input(1, 6, 6);
        var extra = Model.Input(5);
        var joined = new Concatenate().Call(flatten.Call(relu.Call(conv.Call(image))), meta.Call(extra));
        var model = new Model([image, extra], [classes.Call(joined), score.Call(joined)]);

        var x = Tensor.Randn([2, 1, 6, 6]);
        var m = Tensor.Randn([2, 5]);
        var outputs = model.Forward([x, m]);

        var h = Tensor.Cat([flatten.Call(relu.Call(conv.Call(x))), meta.Call(m)], -1);
        Assert.Equal(2, outputs.Length);
        Assert.Equal(classes.Call(h).ToArray<float>(), outputs[0].ToArray<float>());
        Assert.Equal(score.Call(h).ToArray<float>(), outputs[1].ToArray<float>());
        Assert.Equal([2, 3], outputs[0].Shape.ToArray());
        Assert.Equal(2, model.InputCount);
        Assert.Equal(2, model.OutputCount);
        Assert.Equal([-1, 3], model.Outputs[0].Shape);
        Assert.Equal([-1, 70], joined.Shape);
        Assert.Equal([70], joined.SampleShape);
    }

    [Fact]
    public void Layers_are_children_named_as_keras_names_them_so_state_dict_keys_are_stable()
    {
        var input = Model.Input(4);
        var h = new Linear(8).Call(new Relu().Call(new Linear(8).Call(input)));
        var model = new Model(input, new Linear(2).Call(h, "head"));

        Assert.Equal(["linear.weight", "linear.bias", "linear_1.weight", "linear_1.bias", "head.weight", "head.bias"], model.StateDict().Keys);
        Assert.Equal(["linear", "relu", "linear_1", "head"], model.NamedChildren().Select(c => c.Name));
        Assert.Same(model.GetLayer("head"), model.Layers[3]);
        Assert.Equal(
            """
            Model(
              (linear): Linear(in_features=4, out_features=8, bias=True)
              (relu): ReLU()
              (linear_1): Linear(in_features=8, out_features=8, bias=True)
              (head): Linear(in_features=8, out_features=2, bias=True)
            )
            """.ReplaceLineEndings("\n"), model.ToString());
        Assert.Equal([3, 2], model.Call(Tensor.Ones([3, 4])).Shape.ToArray());
        Assert.Equal([3, 2], model.Forward(Tensor.Ones([3, 4])).Shape.ToArray());
    }

    [Fact]
    public void Graph_nodes_list_inputs_then_layer_calls_with_the_indices_of_their_inputs()
    {
        var a = Model.Input(3);
        var b = Model.Input([3], DType.Float32, "other");
        var shared = new Linear(3, 2);
        var sum = new Add().Call(shared.Call(a), shared.Call(b));
        var model = new Model([a, b], [sum]);

        var nodes = model.Nodes;
        Assert.Equal(["input", "other", "linear", "linear", "add"], nodes.Select(n => n.Name));
        Assert.Equal([null, null, shared, shared, model.GetLayer("add")], nodes.Select(n => n.Layer));
        Assert.Equal([[], [], [0], [1], [2, 3]], nodes.Select(n => n.Inputs));
        Assert.Equal([0, 1, 0, 1, 0], nodes.Select(n => n.Call));
        Assert.Equal([-1, 2], nodes[4].Shape);
        Assert.Equal([4], model.OutputNodes);
        Assert.Equal("linear[1][0]", nodes[3].Reference);
    }

    [Fact]
    public void Shared_layer_gets_the_sum_of_the_gradients_of_both_calls()
    {
        Engine.ManualSeed(5);
        var shared = new Linear(3, 2);
        var a = Model.Input(3);
        var b = Model.Input(3);
        var model = new Model([a, b], [new Multiply().Call(shared.Call(a), new Tanh().Call(shared.Call(b)))]);
        Assert.Equal(2, model.Parameters().Count());

        var x = Tensor.Randn([4, 3]);
        var y = Tensor.Randn([4, 3]);
        model.Forward([x, y])[0].Sum().Backward();

        // The same computation with two separate copies of the layer: the shared gradient is their sum.
        var first = new Linear(3, 2);
        var second = new Linear(3, 2);
        first.LoadStateDict(shared.StateDict());
        second.LoadStateDict(shared.StateDict());
        (first.Call(x) * second.Call(y).Tanh()).Sum().Backward();
        var expectedWeight = TestTensors.Values(first.Weight.Grad!).Zip(TestTensors.Values(second.Weight.Grad!), (p, q) => p + q).ToArray();
        var expectedBias = TestTensors.Values(first.Bias!.Grad!).Zip(TestTensors.Values(second.Bias!.Grad!), (p, q) => p + q).ToArray();
        Assert.Equal(expectedWeight, TestTensors.Values(shared.Weight.Grad!), new ToleranceComparer(1e-6));
        Assert.Equal(expectedBias, TestTensors.Values(shared.Bias!.Grad!), new ToleranceComparer(1e-6));
    }

    [Fact]
    public void Wiring_builds_lazy_layers_without_touching_training_mode_or_running_statistics()
    {
        var input = Model.Input(5);
        var dense = new Linear(8);
        var norm = new BatchNorm1d();
        var model = new Model(input, norm.Call(dense.Call(input)));

        Assert.True(model.IsBuilt);
        Assert.Equal(5, dense.InFeatures);
        Assert.Equal(8, norm.NumFeatures);
        Assert.True(norm.IsTraining);
        Assert.Equal(0L, norm.NumBatchesTracked!.Item<long>());
        Assert.Equal(new float[8], norm.RunningMean!.ToArray<float>());
        Assert.Equal(8 * 5 + 8 + 8 + 8, model.ParameterCount);
    }

    [Fact]
    public void A_model_is_a_layer_of_another_model()
    {
        var inner = Model.Input(4);
        var block = new Model(inner, new Relu().Call(new Linear(4, 4).Call(inner)), name: "block");
        var input = Model.Input(4);
        var twice = block.Call(block.Call(input));
        var model = new Model(input, new Linear(4, 1).Call(twice));

        Assert.Equal(["model.linear.weight", "model.linear.bias", "linear.weight", "linear.bias"], model.StateDict().Keys);
        var x = Tensor.Randn([2, 4]);
        Assert.Equal(((Linear)model.GetLayer("linear")).Call(block.Call(block.Call(x))).ToArray<float>(), model.Call(x).ToArray<float>());
    }

    [Fact]
    public void Merge_layers_add_multiply_and_concatenate_real_tensors()
    {
        var x = Tensor.From(new float[,] { { 1, 2 }, { 3, 4 } });
        var y = Tensor.From(new float[,] { { 10, 20 }, { 30, 40 } });
        Assert.Equal([21f, 42f, 63f, 84f], new Add().Call(x, y, y).ToArray<float>());
        Assert.Equal([10f, 40f, 90f, 160f], new Multiply().Call(x, y).ToArray<float>());
        Assert.Equal([1f, 2f, 10f, 20f, 3f, 4f, 30f, 40f], new Concatenate().Call(x, y).ToArray<float>());
        Assert.Equal([4, 2], new Concatenate(axis: -2).Call([x, y]).Shape.ToArray());

        Assert.Equal("model (Add): merges two or more inputs, got 1", Assert.Throws<KilnShapeException>(() => new Add().Call(x)).Message);
        Module add = new Add();
        Assert.Equal("model (Add): merges two or more inputs; call it with several tensors, as in Call(x, y)",
            Assert.Throws<KilnShapeException>(() => add.Call(x)).Message);
        Assert.StartsWith("model (Add): cannot merge inputs of shapes [2, 2], [3]: ",
            Assert.Throws<KilnShapeException>(() => new Add().Call(x, Tensor.Ones([3]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Concatenate(0));
    }

    [Fact]
    public void Wiring_mistakes_fail_when_the_model_is_wired_naming_the_layer_and_the_shapes()
    {
        var e = Assert.Throws<KilnShapeException>(() => new Linear(256, 10).Call(Model.Input(128)));
        Assert.Equal("Functional model: Linear 256->10 cannot be applied to an input of shape (None, 128): input has 128 features, expected 256", e.Message);

        e = Assert.Throws<KilnShapeException>(() => new Linear(256, 10).Call(Model.Input(128), "fc2"));
        Assert.StartsWith("Functional model: layer \"fc2\" (Linear 256->10) cannot be applied to an input of shape (None, 128)", e.Message);

        e = Assert.Throws<KilnShapeException>(() => new Concatenate().Call(Model.Input(3), Model.Input(4, 2)));
        Assert.Equal("Functional model: Concatenate cannot be applied to 2 inputs of shapes (None, 3), (None, 4, 2): "
            + "cannot merge inputs of shapes [1, 3], [1, 4, 2]: inputs must have one rank, got 2 and 3", e.Message);

        e = Assert.Throws<KilnShapeException>(() => new Relu().Call(Model.Input(3), Model.Input(3)));
        Assert.Equal("Functional model: ReLU cannot be applied to 2 inputs of shapes (None, 3), (None, 3): "
            + "ReLU takes one input, got 2; combine several with a merge layer (Add, Multiply, Concatenate)", e.Message);

        e = Assert.Throws<KilnShapeException>(() => new Flatten(0).Call(Model.Input(3, 4)));
        Assert.Equal("Functional model: Flatten must keep the batch dimension first, but on a batch of 1 (an input of shape (None, 3, 4)) it returned shape [12]", e.Message);
    }

    [Fact]
    public void Model_construction_rejects_inputs_and_outputs_that_do_not_make_a_graph()
    {
        var a = Model.Input(3);
        var b = Model.Input(3);
        var h = new Linear(2).Call(a);
        var sum = new Add().Call(h, new Linear(2).Call(b));

        var e = Assert.Throws<KilnException>(() => new Model(a, sum));
        Assert.Equal("Model: outputs[0] depends on an input SymbolicTensor(shape=(None, 3), dtype=float32) that is not among the model's inputs; add it to the inputs list", e.Message);
        Assert.Equal("Model: inputs[0] is the output of Linear 3->2, not a model input; make inputs with Model.Input(...) (Parameter 'inputs')",
            Assert.Throws<ArgumentException>(() => new Model(h, sum)).Message);
        Assert.Throws<ArgumentException>(() => new Model([a, a], [h]));
        Assert.Throws<ArgumentException>(() => new Model([a], []));
        Assert.Equal("Model: two layers are named \"fc\"",
            Assert.Throws<ArgumentException>(() => new Model(a, new Linear(2).Call(new Linear(3).Call(a, "fc"), "fc"))).Message);
        Assert.Throws<ArgumentException>(() => Model.Input(3, 0));
        Assert.Throws<ArgumentException>(() => new Linear(2).Call(a, "a.b"));
    }

    [Fact]
    public void Forward_checks_the_number_and_shapes_of_its_inputs()
    {
        var a = Model.Input(3);
        var b = Model.Input(4);
        var model = new Model([a, b], [new Concatenate().Call(a, b)]);

        Assert.Equal([5, 7], model.Forward([Tensor.Ones([5, 3]), Tensor.Ones([5, 4])])[0].Shape.ToArray());
        Assert.Equal("model (Model): input 1 (\"input_1\") has shape [5, 5], expected (None, 4)",
            Assert.Throws<KilnShapeException>(() => model.Forward([Tensor.Ones([5, 3]), Tensor.Ones([5, 5])])).Message);
        Assert.Equal("model (Model): the model takes 2 inputs, got 1 (Parameter 'inputs')",
            Assert.Throws<ArgumentException>(() => model.Forward([Tensor.Ones([5, 3])])).Message);
        Assert.Equal("model (Model): the model takes 2 inputs and returns 1 output; call Forward([x1, x2, ...]) with a list",
            Assert.Throws<KilnException>(() => model.Call(Tensor.Ones([5, 3]))).Message);
    }

    [Fact]
    public void A_state_dict_saved_from_a_model_loads_into_a_freshly_wired_one()
    {
        static Model Wire()
        {
            var input = Model.Input(1, 8, 8);
            var h = new Flatten().Call(new BatchNorm2d().Call(new Conv2d(3, 3, padding: 1).Call(input)));
            return new Model(input, new Linear(2).Call(h));
        }
        var source = Wire();
        source.Call(Tensor.Randn([4, 1, 8, 8]));
        var target = Wire();
        target.LoadStateDict(source.StateDict());
        source.Eval();
        target.Eval();
        var x = Tensor.Randn([2, 1, 8, 8]);
        Assert.Equal(source.Call(x).ToArray<float>(), target.Call(x).ToArray<float>());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));

        public int GetHashCode(double obj) => 0;
    }
}
