using System.IO.Compression;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

[Collection(RandomStateCollection.Name)]
public sealed class SavedModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-savedmodel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    /// <summary>The CNN of DESIGN.md for Fashion-MNIST.</summary>
    internal static Sequential FashionMnistCnn() => new(
        new Conv2d(1, 32, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Conv2d(32, 64, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));

    internal static int[] Bits(Tensor t) => t.ToArray<float>().Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void Fashion_mnist_cnn_saved_and_loaded_predicts_the_same_bits_and_prints_the_same()
    {
        Engine.ManualSeed(1);
        var model = FashionMnistCnn();
        using var images = Tensor.Rand([3, 1, 28, 28]);
        var path = PathOf("cnn.kilnmodel");

        model.Save(path);
        var loaded = SavedModel.Load(path);

        Assert.IsType<Sequential>(loaded);
        Assert.Equal(model.ToString(), loaded.ToString());
        model.Eval();
        loaded.Eval();
        using (Engine.NoGrad())
        {
            using var expected = model.Call(images);
            using var actual = loaded.Call(images);
            Assert.Equal([3, 10], actual.ShapeArray);
            Assert.Equal(Bits(expected), Bits(actual));
        }
    }

    [Fact]
    public void Saved_model_is_a_zip_of_config_and_safetensors_entries_stored_uncompressed()
    {
        var path = PathOf("mlp.kilnmodel");
        var model = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2));
        using var optimizer = new Adam(model.Parameters());

        model.Save(path, optimizer);

        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["config.json", "model.safetensors", "optimizer.safetensors"], zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        var config = reader.ReadToEnd();
        Assert.Contains("\"format\": \"kiln.saved_model\"", config);
        Assert.Contains("\"type\": \"Linear\"", config);
        Assert.Contains("\"in_features\": 4", config);
        Assert.Contains("\"type\": \"Adam\"", config);
    }

    [Fact]
    public void Saving_twice_gives_the_same_bytes()
    {
        var model = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
        model.Save(PathOf("a.kilnmodel"));
        model.Save(PathOf("b.kilnmodel"));
        Assert.Equal(File.ReadAllBytes(PathOf("a.kilnmodel")), File.ReadAllBytes(PathOf("b.kilnmodel")));
    }

    [Fact]
    public void Adam_state_saved_with_the_model_resumes_training_exactly()
    {
        Engine.ManualSeed(2);
        var model = new Sequential(new Linear(5, 8), new Tanh(), new Linear(8, 3));
        var optimizer = new Adam(model.Parameters(), lr: 1e-2, amsgrad: true);
        using var x = Tensor.Randn([16, 5]);
        using var y = Tensor.Randn([16, 3]);
        Step(model, optimizer, x, y);
        Step(model, optimizer, x, y);
        optimizer.ParamGroups[0].Lr = 5e-3;
        var path = PathOf("resume.kilnmodel");

        model.Save(path, optimizer);
        var loaded = SavedModel.Load(path, out var loadedOptimizer);

        var resumed = Assert.IsType<Adam>(loadedOptimizer);
        Assert.Equal(5e-3, resumed.ParamGroups[0].Lr);
        Assert.True(resumed.ParamGroups[0].Amsgrad);
        for (int i = 0; i < 2; i++)
        {
            Step(model, optimizer, x, y);
            Step(loaded, resumed, x, y);
        }
        foreach (var ((name, expected), (_, actual)) in model.NamedParameters().Zip(loaded.NamedParameters()))
            Assert.True(Bits(expected).SequenceEqual(Bits(actual)), $"{name} differs after resuming");
    }

    private static void Step(Module model, Optimizer optimizer, Tensor x, Tensor y)
    {
        using var scope = Engine.Scope();
        var loss = F.MseLoss(model.Call(x), y);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
    }

    [Fact]
    public void A_compiled_model_comes_back_compiled_and_fits_on_as_the_original_does()
    {
        Engine.ManualSeed(4);
        var model = new Sequential(new Linear(5, 8), new Relu(), new Linear(8, 3));
        model.Compile(new Adam(lr: 1e-2), Losses.MeanSquaredError, Metrics.MeanAbsoluteError);
        using var x = Tensor.Randn([24, 5]);
        using var y = Tensor.Randn([24, 3]);
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var path = PathOf("compiled.kilnmodel");

        model.Save(path);
        var loaded = SavedModel.Load(path, out var optimizer);

        var trainer = Trainer.Find(loaded);
        Assert.NotNull(trainer);
        Assert.Same(optimizer, trainer.Optimizer);
        Assert.Equal((Loss)Losses.MeanSquaredError, trainer.Loss);
        Assert.Empty(trainer.Metrics);
        model.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0, shuffle: false);
        loaded.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0, shuffle: false);
        foreach (var ((name, expected), (_, actual)) in model.NamedParameters().Zip(loaded.NamedParameters()))
            Assert.True(Bits(expected).SequenceEqual(Bits(actual)), $"{name} differs after fitting on");
    }

    [Fact]
    public void A_model_compiled_with_a_loss_of_its_own_comes_back_uncompiled()
    {
        var model = new Linear(2, 2);
        model.Compile(new Sgd(model.Parameters(), lr: 0.1), (p, t) => (p - t).Abs().Mean());
        var path = PathOf("own-loss.kilnmodel");

        model.Save(path);
        var loaded = SavedModel.Load(path, out var optimizer);

        Assert.IsType<Sgd>(optimizer);
        Assert.Null(Trainer.Find(loaded));
    }

    [Fact]
    public void Load_without_an_optimizer_in_the_file_gives_a_null_optimizer()
    {
        var path = PathOf("plain.kilnmodel");
        new Linear(2, 2).Save(path);
        var loaded = SavedModel.Load(path, out var optimizer);
        Assert.IsType<Linear>(loaded);
        Assert.Null(optimizer);
    }

    [Fact]
    public void A_module_used_twice_is_loaded_as_one_module()
    {
        var shared = new Linear(3, 3);
        var model = new Sequential(shared, new Relu(), shared);
        var path = PathOf("shared.kilnmodel");

        model.Save(path);
        var loaded = (Sequential)SavedModel.Load(path);

        Assert.Same(loaded[0], loaded[2]);
        Assert.Equal(model.StateDict().Keys, loaded.StateDict().Keys);
    }

    [Fact]
    public void Frozen_parameters_float64_and_containers_round_trip()
    {
        var model = new Sequential(
            new ModuleList([new Linear(2, 3), new Linear(3, 3, bias: false)]),
            new ModuleDict([new("norm", new LayerNorm([3], eps: 1e-3)), new("act", new Gelu(GeluApproximation.Tanh))]));
        model.To(DType.Float64);
        ((Linear)((ModuleList)model[0])[0]).Weight.RequiresGrad = false;
        var path = PathOf("nested.kilnmodel");

        model.Save(path);
        var loaded = (Sequential)SavedModel.Load(path);

        Assert.Equal(model.ToString(), loaded.ToString());
        var parameters = loaded.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.False(parameters["0.0.weight"].RequiresGrad);
        Assert.True(parameters["0.0.bias"].RequiresGrad);
        Assert.All(parameters.Values, p => Assert.Equal(DType.Float64, p.DType));
        foreach (var (name, tensor) in model.StateDict())
            Assert.Equal(tensor.ToArray<double>(), loaded.StateDict()[name].ToArray<double>());
    }

    [Fact]
    public void Loading_leaves_the_random_stream_where_it_was()
    {
        var path = PathOf("rng.kilnmodel");
        FashionMnistCnn().Save(path);
        Engine.ManualSeed(7);
        var before = Engine.GetRngState();
        SavedModel.Load(path);
        Assert.Equal(before, Engine.GetRngState());
    }

    private sealed class Residual : Module
    {
        private readonly Linear _inner = new(4, 4);

        public override Tensor Forward(Tensor input) => input + _inner.Call(input);
    }

    private sealed class MyLinear() : Linear(4, 4);

    [Fact]
    public void A_custom_module_is_refused_with_its_path_and_type_and_SaveWeights_suggested()
    {
        var path = PathOf("custom.kilnmodel");
        var model = new Sequential(new Linear(4, 4), new Sequential(new Relu(), new Residual()));

        var e = Assert.Throws<ArgumentException>(() => model.Save(path));

        Assert.Contains("model.1.1", e.Message);
        Assert.Contains(typeof(Residual).FullName!, e.Message);
        Assert.Contains("SaveWeights", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_subclass_of_a_built_in_layer_is_refused_too()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new MyLinear()).Save(PathOf("sub.kilnmodel")));
        Assert.Contains("model.0", e.Message);
        Assert.Contains(nameof(MyLinear), e.Message);
    }

    [Fact]
    public void A_built_in_layer_with_an_extra_registered_buffer_is_refused()
    {
        var linear = new Linear(2, 2);
        linear.RegisterBuffer("scale", Tensor.Ones([2]));
        var e = Assert.Throws<ArgumentException>(() => new Sequential(linear).Save(PathOf("extra.kilnmodel")));
        Assert.Contains("\"0.scale\"", e.Message);
    }

    [Fact]
    public void An_optimizer_of_tensors_outside_the_model_is_refused()
    {
        using var stray = Tensor.Zeros([3]);
        stray.RequiresGrad = true;
        using var optimizer = new Sgd([stray], lr: 0.1);
        var e = Assert.Throws<ArgumentException>(() => new Linear(2, 2).Save(PathOf("stray.kilnmodel"), optimizer));
        Assert.Contains("not a parameter of the model", e.Message);
    }

    [Fact]
    public void A_save_that_fails_while_writing_leaves_the_old_file_intact()
    {
        var path = PathOf("atomic.kilnmodel");
        new Linear(2, 2).Save(path);
        var before = File.ReadAllBytes(path);
        var broken = new Linear(3, 3);
        // The disposed weight passes every check before writing and fails in the middle of the archive.
        broken.Weight.Dispose();

        Assert.ThrowsAny<Exception>(() => broken.Save(path));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([System.IO.Path.GetFileName(path)], Directory.GetFiles(_dir).Select(System.IO.Path.GetFileName));
        Assert.IsType<Linear>(SavedModel.Load(path));
    }
}
