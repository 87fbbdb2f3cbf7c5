using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class LazyLayerTests
{
    // (eager constructor, lazy constructor, an input shape): each pair must draw the same weights.
    public static TheoryData<string, Func<Module>, Func<Module>, int[]> EagerAndLazy() => new()
    {
        { "Linear", () => new Linear(5, 3), () => new Linear(3), [2, 5] },
        { "Linear without bias", () => new Linear(5, 3, bias: false), () => new Linear(3, bias: false), [4, 2, 5] },
        { "Conv2d", () => new Conv2d(4, 6, 3, padding: 1, groups: 2), () => new Conv2d(6, 3, padding: 1, groups: 2), [2, 4, 5, 5] },
        { "Conv1d", () => new Conv1d(4, 6, 3, stride: 2), () => new Conv1d(6, 3, stride: 2), [2, 4, 9] },
        { "ConvTranspose2d", () => new ConvTranspose2d(4, 6, 3, stride: 2), () => new ConvTranspose2d(6, 3, stride: 2), [1, 4, 3, 3] },
        { "BatchNorm1d", () => new BatchNorm1d(4), () => new BatchNorm1d(), [3, 4] },
        { "BatchNorm2d", () => new BatchNorm2d(4, affine: false), () => new BatchNorm2d(affine: false), [3, 4, 2, 2] },
        { "LayerNorm", () => new LayerNorm(5), () => new LayerNorm(), [2, 3, 5] },
    };

    [Theory]
    [MemberData(nameof(EagerAndLazy))]
    public void Lazy_layer_builds_on_its_first_call_with_the_state_the_eager_constructor_makes_for_the_same_seed(
        string layer, Func<Module> eager, Func<Module> lazy, int[] inputShape)
    {
        Engine.ManualSeed(7);
        var expected = eager();
        Engine.ManualSeed(7);
        var module = lazy();
        Assert.False(module.IsBuilt);
        Assert.Empty(module.Parameters());
        Assert.Empty(module.StateDict());
        Assert.StartsWith("Lazy", module.ToString());

        var x = Tensor.Arange(0.0, inputShape.Aggregate(1, (a, b) => a * b), 1.0).Reshape(inputShape) * 0.1;
        var y = module.Call(x);
        var wantY = expected.Call(x);

        Assert.True(module.IsBuilt, layer);
        Assert.Equal(expected.ToString(), module.ToString());
        var want = expected.StateDict();
        var got = module.StateDict();
        Assert.Equal(want.Keys, got.Keys);
        foreach (var (name, value) in want)
        {
            Assert.Equal(value.Shape, got[name].Shape);
            Assert.Equal(value.DType, got[name].DType);
            Assert.Equal(TestTensors.Values(value), TestTensors.Values(got[name]));
        }
        Assert.Equal(wantY.ToArray<float>(), y.ToArray<float>());
        foreach (var p in module.Parameters())
        {
            Assert.True(p.IsLeaf);
            Assert.True(p.RequiresGrad);
        }
    }

    [Fact]
    public void Lazy_layers_report_unknown_sizes_as_zero_and_print_as_pytorch_lazy_modules()
    {
        var linear = new Linear(10);
        Assert.Equal(0, linear.InFeatures);
        Assert.Equal(10, linear.OutFeatures);
        Assert.Equal("LazyLinear(in_features=0, out_features=10, bias=True)", linear.ToString());
        Assert.Equal("LazyConv2d(0, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))", new Conv2d(32, 5, padding: 2).ToString());
        Assert.Equal("LazyConv1d(0, 8, kernel_size=(3,), stride=(2,))", new Conv1d(8, 3, stride: 2).ToString());
        Assert.Equal("LazyConvTranspose2d(0, 8, kernel_size=(2, 2), stride=(2, 2))", new ConvTranspose2d(8, 2, stride: 2).ToString());
        Assert.Equal("LazyBatchNorm2d(0, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", new BatchNorm2d().ToString());
        Assert.Equal("LazyLayerNorm((0,), eps=1e-05, elementwise_affine=True)", new LayerNorm().ToString());
        Assert.Equal(0, new BatchNorm1d().NumFeatures);
        Assert.Equal([0], new LayerNorm().NormalizedShape);
    }

    [Fact]
    public void Three_leading_ints_still_make_the_eager_convolution()
    {
        Assert.Equal(1, new Conv2d(1, 32, 5, padding: 2).InChannels);
        Assert.Equal(4, new Conv1d(4, 8, 3).InChannels);
        Assert.Equal(3, new ConvTranspose2d(3, 8, 2).InChannels);
        Assert.Equal(64, new BatchNorm2d(64).NumFeatures);
        Assert.Equal(784, new Linear(784, 10).InFeatures);
    }

    [Fact]
    public void Reading_a_parameter_of_an_unbuilt_lazy_layer_says_how_to_build_it()
    {
        var model = new Sequential(new Linear(4), new Relu(), new Linear(2));
        var e = Assert.Throws<KilnException>(() => ((Linear)model[2]).Weight);
        Assert.Equal("model.2 (LazyLinear ?->2): Weight does not exist yet; a lazy layer creates its parameters on its first call. "
            + "Call the model once (or model.Build(inputShape)) before reading parameters or creating an optimizer", e.Message);
        Assert.Throws<KilnException>(() => new BatchNorm2d().RunningMean);
    }

    [Fact]
    public void Built_lazy_layer_rejects_another_input_size_naming_its_path()
    {
        var model = new Sequential([("fc1", new Linear(256)), ("relu", new Relu()), ("fc2", new Linear(10))]);
        Assert.Equal([3, 10], model.Call(Tensor.Zeros([3, 784])).Shape.ToArray());
        Assert.Equal(256, ((Linear)model["fc2"]).InFeatures);

        var e = Assert.Throws<KilnShapeException>(() => model["fc2"].Call(Tensor.Zeros([3, 128])));
        Assert.Equal("model.fc2 (Linear 256->10): input has 128 features, expected 256", e.Message);
        var conv = new Sequential(new Conv2d(8, 3));
        conv.Call(Tensor.Zeros([1, 3, 5, 5]));
        Assert.Equal("model.0 (Conv2d 3->8, 3x3): input has 1 channels, expected 3 (input [1, 1, 5, 5])",
            Assert.Throws<KilnShapeException>(() => conv.Call(Tensor.Zeros([1, 1, 5, 5]))).Message);
    }

    [Fact]
    public void Lazy_convolution_rejects_a_channel_count_its_groups_do_not_divide()
    {
        var e = Assert.Throws<KilnShapeException>(() => new Conv2d(6, 3, groups: 2).Call(Tensor.Zeros([1, 3, 4, 4])));
        Assert.Equal("model (LazyConv2d ?->6, 3x3): input has 3 channels, which the 2 groups do not divide (input [1, 3, 4, 4])", e.Message);
    }

    [Fact]
    public void Build_runs_a_dry_batch_in_evaluation_mode_and_restores_training_mode_and_running_statistics()
    {
        var model = new Sequential(new Conv2d(4, 3, padding: 1), new BatchNorm2d(), new Relu(), new Dropout(0.5), new Flatten(), new Linear(10));
        model[3].Eval();
        var state = Engine.GetRngState();

        Assert.Same(model, model.Build(2, 6, 6));

        Assert.True(model.IsBuilt);
        Assert.NotEqual(state, Engine.GetRngState());
        Assert.Equal(4 * 6 * 6, ((Linear)model[5]).InFeatures);
        Assert.True(model.IsTraining);
        Assert.False(model[3].IsTraining);
        var bn = (BatchNorm2d)model[1];
        Assert.Equal(0L, bn.NumBatchesTracked!.Item<long>());
        Assert.Equal([0f, 0f, 0f, 0f], bn.RunningMean!.ToArray<float>());
        Assert.Equal(4 * 2 * 9 + 4 + 4 + 4 + 144 * 10 + 10, model.ParameterCount);
    }

    [Fact]
    public void Lazy_parameters_made_inside_a_scope_and_under_no_grad_outlive_it_and_train()
    {
        var model = new Sequential(new Linear(3), new Relu(), new Linear(1));
        using (Engine.Scope())
        using (Engine.NoGrad())
            model.Call(Tensor.Ones([2, 4]));
        var parameters = model.Parameters().ToList();
        Assert.Equal(4, parameters.Count);
        Assert.All(parameters, p => Assert.False(p.IsDisposed));

        var loss = model.Call(Tensor.Ones([2, 4])).Sum();
        loss.Backward();
        Assert.All(parameters, p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void Threads_calling_a_new_lazy_layer_at_once_build_it_once()
    {
        var layer = new Linear(3);
        var x = Tensor.Ones([2, 4]);
        var outputs = new float[8][];
        Parallel.For(0, outputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => outputs[i] = layer.Call(x).ToArray<float>());

        Assert.Equal(2, layer.Parameters().Count());
        Assert.All(outputs, o => Assert.Equal(outputs[0], o));
        Assert.Equal(layer.Call(x).ToArray<float>(), outputs[0]);
    }

    [Fact]
    public void To_before_the_first_call_gives_the_built_parameters_that_dtype()
    {
        var model = new Sequential(new Linear(3), new BatchNorm1d());
        model.To(DType.Float64);
        var y = model.Call(Tensor.Ones([2, 4], DType.Float64));
        Assert.Equal(DType.Float64, y.DType);
        Assert.All(model.Parameters(), p => Assert.Equal(DType.Float64, p.DType));
        Assert.Equal(DType.Float64, ((BatchNorm1d)model[1]).RunningVar!.DType);
        Assert.Equal(DType.Int64, ((BatchNorm1d)model[1]).NumBatchesTracked!.DType);
    }

    private static Sequential LazyCnn() => new(new Conv2d(4, 3, padding: 1), new BatchNorm2d(), new Relu(), new Flatten(), new Linear(5));

    [Fact]
    public void A_saved_model_loads_into_a_fresh_lazy_model_without_drawing_random_numbers()
    {
        var source = LazyCnn();
        source.Call(Tensor.Randn([3, 2, 6, 6]));  // training mode: the running statistics move
        var saved = source.StateDict();

        var target = LazyCnn();
        var rng = Engine.GetRngState();
        var result = target.LoadStateDict(saved);

        Assert.Equal(rng, Engine.GetRngState());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(target.IsBuilt);
        Assert.Equal(saved.Keys, target.StateDict().Keys);
        foreach (var (name, value) in target.StateDict())
            Assert.Equal(TestTensors.Values(saved[name]), TestTensors.Values(value));
        Assert.Equal(2, ((Conv2d)target[0]).InChannels);
        Assert.Equal(144, ((Linear)target[4]).InFeatures);
        source.Eval();
        target.Eval();
        var x = Tensor.Randn([2, 2, 6, 6]);
        Assert.Equal(source.Call(x).ToArray<float>(), target.Call(x).ToArray<float>());
    }

    [Fact]
    public void A_failed_load_leaves_the_lazy_layers_unbuilt()
    {
        var source = LazyCnn().Build(2, 6, 6);
        var saved = new Dictionary<string, Tensor>(source.StateDict());
        saved["4.bias"] = Tensor.Zeros([7]);

        var target = LazyCnn();
        var e = Assert.Throws<KilnException>(() => target.LoadStateDict(saved));
        Assert.Contains("size mismatch for 4.bias: the state dict has shape [7], the model has [5]", e.Message);
        Assert.False(target.IsBuilt);
        Assert.Empty(target.Parameters());
        Assert.StartsWith("LazyConv2d(0, 4", target[0].ToString());

        saved["4.bias"] = source.StateDict()["4.bias"];
        saved["0.weight"] = Tensor.Zeros([4, 2, 5, 5]);
        e = Assert.Throws<KilnException>(() => LazyCnn().LoadStateDict(saved));
        Assert.Contains("size mismatch for 0.weight: the state dict has shape [4, 2, 5, 5], the model's LazyConv2d takes [4, in_channels / 1, 3, 3]", e.Message);
    }

    [Fact]
    public void A_lazy_layer_missing_from_the_state_dict_is_reported_and_left_lazy()
    {
        var saved = new Dictionary<string, Tensor>(LazyCnn().Build(2, 6, 6).StateDict());
        saved.Remove("4.weight");
        saved.Remove("4.bias");
        var target = LazyCnn();

        Assert.Contains("missing keys: \"4.weight\"", Assert.Throws<KilnException>(() => target.LoadStateDict(saved)).Message);
        Assert.False(target.IsBuilt);

        var result = target.LoadStateDict(saved, strict: false);
        Assert.Equal(["4.weight"], result.MissingKeys);
        Assert.Equal(2, ((Conv2d)target[0]).InChannels);
        Assert.False(target.IsBuilt);
        Assert.Equal(0, ((Linear)target[4]).InFeatures);
    }
}
