using System.IO.Compression;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>Every layer type of the saved-model registry, saved and loaded with settings other than its defaults.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class SavedModelRegistryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-registry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A module of each registry type, set up away from the constructor defaults where it has settings.</summary>
    internal static IReadOnlyDictionary<Type, Func<Module>> Samples { get; } = new Dictionary<Type, Func<Module>>
    {
        [typeof(Linear)] = () => new Linear(5, 3, bias: false),
        [typeof(Conv1d)] = () => new Conv1d(4, 6, kernelSize: 3, stride: 2, padding: 1, dilation: 2, groups: 2),
        [typeof(Conv2d)] = () => new Conv2d(4, 6, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2, bias: false),
        [typeof(ConvTranspose2d)] = () => new ConvTranspose2d(4, 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2),
        [typeof(MaxPool2d)] = () => new MaxPool2d((3, 2), stride: 1, padding: (1, 0), dilation: (1, 2), ceilMode: true),
        [typeof(AvgPool2d)] = () => new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false),
        [typeof(AdaptiveAvgPool2d)] = () => new AdaptiveAvgPool2d((2, 3)),
        [typeof(BatchNorm1d)] = () => new BatchNorm1d(5, eps: 1e-3, momentum: null),
        [typeof(BatchNorm2d)] = () => new BatchNorm2d(4, momentum: 0.3, affine: false),
        [typeof(LayerNorm)] = () => new LayerNorm([3, 4], eps: 1e-6),
        [typeof(GroupNorm)] = () => new GroupNorm(2, 6, eps: 1e-4),
        [typeof(Dropout)] = () => new Dropout(0.25),
        [typeof(Embedding)] = () => new Embedding(10, 4, paddingIdx: 2),
        [typeof(Flatten)] = () => new Flatten(2, 3),
        [typeof(Identity)] = () => new Identity(),
        [typeof(Elu)] = () => new Elu(0.5),
        [typeof(Gelu)] = () => new Gelu(GeluApproximation.Tanh),
        [typeof(LeakyRelu)] = () => new LeakyRelu(0.2),
        [typeof(LogSoftmax)] = () => new LogSoftmax(-1),
        [typeof(Relu)] = () => new Relu(),
        [typeof(Sigmoid)] = () => new Sigmoid(),
        [typeof(Silu)] = () => new Silu(),
        [typeof(Softmax)] = () => new Softmax(0),
        [typeof(Softplus)] = () => new Softplus(beta: 2, threshold: double.PositiveInfinity),
        [typeof(Tanh)] = () => new Tanh(),
        [typeof(Sequential)] = () => new Sequential([("encoder", new Linear(3, 2)), ("act", new Relu())]),
        [typeof(ModuleList)] = () => new ModuleList([new Linear(2, 2), new Tanh()]),
        [typeof(ModuleDict)] = () => new ModuleDict([new("b", new Linear(2, 1)), new("a", new Sigmoid())]),
        [typeof(Add)] = () => new Add(),
        [typeof(Multiply)] = () => new Multiply(),
        [typeof(Concatenate)] = () => new Concatenate(axis: 1),
        [typeof(Model)] = () =>
        {
            var input = Model.Input(4);
            var hidden = new Relu().Call(new Linear(4, 3).Call(input));
            return new Model(input, new Multiply().Call(hidden, new Linear(3, 3).Call(hidden)), name: "gated");
        },
    };

    public static TheoryData<string> RegistryTypes => new(LayerConfig.Types.Keys);

    [Fact]
    public void Every_registry_type_has_a_sample_and_every_built_in_layer_is_in_the_registry()
    {
        Assert.Equal(LayerConfig.Types.Values.OrderBy(t => t.Name), Samples.Keys.OrderBy(t => t.Name));
        var layers = typeof(Module).Assembly.GetTypes()
            .Where(t => t.Namespace is "Kiln.NN" or "Kiln.Models" && t.IsPublic && !t.IsAbstract && typeof(Module).IsAssignableFrom(t));
        Assert.Empty(layers.Except(LayerConfig.Types.Values));
    }

    [Theory]
    [MemberData(nameof(RegistryTypes))]
    public void Registry_type_round_trips_with_its_settings_and_state(string type)
    {
        Engine.ManualSeed(3);
        var module = Samples[LayerConfig.Types[type]]();
        // Non-trivial buffers: running statistics after one training step.
        if (module is BatchNormBase bn)
        {
            using var scope = Engine.Scope();
            module.Call(bn is BatchNorm1d ? Tensor.Randn([8, bn.NumFeatures]) : Tensor.Randn([2, bn.NumFeatures, 3, 3]));
        }
        var path = System.IO.Path.Combine(_dir, type + ".kilnmodel");

        module.Save(path);
        var loaded = SavedModel.Load(path);

        Assert.Equal(module.GetType(), loaded.GetType());
        Assert.Equal(module.ToString(), loaded.ToString());
        var expected = module.StateDict();
        var actual = loaded.StateDict();
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.ShapeArray, actual[name].ShapeArray);
            Assert.Equal(tensor.DType, actual[name].DType);
            Assert.Equal(TestTensors.Values(tensor), TestTensors.Values(actual[name]));
        }
        // Saving the loaded module again gives the same file: every setting the format keeps came back.
        var again = System.IO.Path.Combine(_dir, type + ".again.kilnmodel");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void Config_names_the_layer_settings_with_pytorch_argument_names()
    {
        var path = System.IO.Path.Combine(_dir, "conv.kilnmodel");
        new Conv2d(1, 8, kernelSize: 3, padding: Padding.Same).Save(path);
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        var config = reader.ReadToEnd();
        Assert.Contains("\"in_channels\": 1", config);
        Assert.Contains("\"padding\": \"same\"", config);
        Assert.Contains("\"kernel_size\": [", config);
    }
}
