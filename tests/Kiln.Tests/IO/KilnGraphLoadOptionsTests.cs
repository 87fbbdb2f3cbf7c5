using Kiln.Compile;
using Kiln.IO;
using Kiln.Tests.Compile;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// .kiln files loaded with compile options, as a server loads a model: a dynamic batch dimension (the
/// saved graph re-specialized for any batch size, no code behind it) and frozen weights (folded and
/// pre-packed at load).
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class KilnGraphLoadOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-load-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    private static Tensor Eager(Kiln.NN.Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    [Fact]
    public void A_graph_loaded_with_a_dynamic_batch_runs_other_batch_sizes_to_the_eager_bits()
    {
        var model = KilnGraphFileTests.TrainedCnn();
        var path = PathOf("cnn.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 4, 2, 12, 12), path);
        using var loaded = Engine.Load(path, new CompileOptions { DynamicBatch = true });
        foreach (int batch in new[] { 1, 7, 4, 2 })
        {
            var x = CompileAssert.Uniform(30 + batch, batch, 2, 12, 12);
            CompileAssert.SameBits(Eager(model, x), loaded.Call(x), $"batch {batch}");
        }
        Assert.Equal(0, loaded.TraceCount);
        Assert.StartsWith("graph Sequential(%in0: [2,2,12,12] f32)", loaded.GraphText);
        var e = Assert.Throws<ArgumentException>(() => loaded.Call(CompileAssert.Uniform(1, 4, 2, 10, 10)));
        Assert.Contains("runs only the signature it was saved with", e.Message);
    }

    [Fact]
    public void A_graph_loaded_without_a_dynamic_batch_still_refuses_another_batch_size()
    {
        var model = KilnGraphFileTests.TrainedCnn();
        var path = PathOf("cnn.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 4, 2, 12, 12), path);
        using var loaded = Engine.Load(path);
        Assert.Throws<ArgumentException>(() => loaded.Call(CompileAssert.Uniform(1, 3, 2, 12, 12)));
    }

    [Fact]
    public void A_dynamic_batch_is_refused_for_a_graph_saved_at_batch_size_1_saying_why()
    {
        var model = KilnGraphFileTests.TrainedCnn();
        var path = PathOf("cnn-b1.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 1, 2, 12, 12), path);
        var e = Assert.Throws<ArgumentException>(() => Engine.Load(path, new CompileOptions { DynamicBatch = true }));
        Assert.Contains("batch size 1", e.Message);
        using var plain = Engine.Load(path);
        Assert.Equal(1, plain.Call(CompileAssert.Uniform(2, 1, 2, 12, 12)).Size(0));
    }

    [Fact]
    public void A_graph_loaded_with_frozen_weights_prepacks_them_and_gives_the_mlp_bits()
    {
        Engine.ManualSeed(5);
        var model = CompiledModuleTests.Mlp();
        model.Eval();
        var path = PathOf("mlp.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 3, 1, 28, 28), path);
        using var frozen = Engine.Load(path, new CompileOptions { FreezeParameters = true, DynamicBatch = true });
        foreach (int batch in new[] { 3, 1, 5 })
        {
            var x = CompileAssert.Uniform(40 + batch, batch, 1, 28, 28);
            CompileAssert.SameBits(Eager(model, x), frozen.Call(x), $"batch {batch}");
        }
        Assert.DoesNotContain("param @", frozen.GraphText);
    }

    [Fact]
    public void A_graph_loaded_with_frozen_weights_folds_batch_norm_and_stays_within_float_rounding()
    {
        var model = KilnGraphFileTests.TrainedCnn();
        var path = PathOf("cnn.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 4, 2, 12, 12), path);
        using var frozen = Engine.Load(path, new CompileOptions { FreezeParameters = true });
        var x = CompileAssert.Uniform(50, 4, 2, 12, 12);
        var expected = Eager(model, x).ToArray<float>();
        var actual = frozen.Call(x).ToArray<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
        using var plain = Engine.Load(path);
        plain.Call(x).Dispose();
        Assert.Contains("running_var", plain.GraphText);
        Assert.Contains("Rsqrt", plain.GraphText);
        Assert.DoesNotContain("Rsqrt", frozen.GraphText);
    }
}
