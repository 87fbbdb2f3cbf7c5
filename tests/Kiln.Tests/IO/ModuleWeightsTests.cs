using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

[Collection(RandomStateCollection.Name)]
public sealed class ModuleWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Module_save_weights_then_load_weights_restores_parameters_and_buffers()
    {
        var path = System.IO.Path.Combine(_dir, "model.safetensors");
        var source = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 2));
        var target = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 2));
        var expected = source.StateDict().ToDictionary(kv => kv.Key, kv => Values(kv.Value));

        source.SaveWeights(path);
        var result = target.LoadWeights(path);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        using (var data = Safetensors.Load(path))
            Assert.Equal(source.StateDict().Keys, data.Tensors.Keys);
        foreach (var (name, tensor) in target.StateDict())
            Assert.Equal(expected[name], Values(tensor));

        // Parameters are float32; BatchNorm's num_batches_tracked is int64.
        static double[] Values(Tensor t) => t.DType == DType.Float32
            ? t.ToArray<float>().Select(v => (double)v).ToArray()
            : t.ToArray<long>().Select(v => (double)v).ToArray();
    }

    [Fact]
    public void Module_load_weights_reports_missing_keys_when_not_strict_and_throws_when_strict()
    {
        var path = System.IO.Path.Combine(_dir, "partial.safetensors");
        using var w = Tensor.Ones([2, 3]);
        Safetensors.Save(path, [new("weight", w)]);
        var model = new Linear(3, 2);

        Assert.Throws<KilnException>(() => model.LoadWeights(path));
        var result = model.LoadWeights(path, strict: false);

        Assert.Equal(["bias"], result.MissingKeys);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f], model.StateDict()["weight"].ToArray<float>());
    }
}
