using Kiln.IO;
using Kiln.Tests.Compile;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// A .kiln file checked in beside this test (Fixtures/cnn-v1.kiln, a small CNN with batch norm and
/// pooling written by format version 1) keeps loading and giving the results recorded with it
/// (Fixtures/cnn-v1.io.safetensors): a change that breaks files users already have fails here.
/// Regenerate both only for a new format version, with KILN_UPDATE_KILN_FIXTURES=1.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class KilnGraphFixtureTests
{
    private const string UpdateVariable = "KILN_UPDATE_KILN_FIXTURES";

    [Fact]
    public void A_checked_in_version_1_file_loads_and_gives_its_recorded_results()
    {
        var directory = FixtureDirectory();
        var model = System.IO.Path.Combine(directory, "cnn-v1.kiln");
        var io = System.IO.Path.Combine(directory, "cnn-v1.io.safetensors");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            var cnn = KilnGraphFileTests.TrainedCnn();
            var x = CompileAssert.Uniform(2026, 2, 2, 12, 12);
            KilnGraphFile.Save(cnn, x, model);
            using (Engine.NoGrad()) Safetensors.Save(io, [new("input0", x), new("expected0", cnn.Call(x))]);
            return;
        }
        using var loaded = Engine.Load(model);
        using var data = Safetensors.Load(io);
        var result = loaded.Call(data.Tensors["input0"]);
        var expected = data.Tensors["expected0"];
        Assert.Equal(expected.ShapeArray, result.ShapeArray);
        // The recorded results came from this machine's kernels; another instruction set may round differently.
        var (e, a) = (expected.ToArray<float>(), result.ToArray<float>());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 * Math.Max(1, Math.Abs(e[i])), $"element {i}: {a[i]}, recorded {e[i]}");
    }

    private static string FixtureDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "Kiln.Tests", "IO", "Fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/Kiln.Tests/IO/Fixtures not found above {AppContext.BaseDirectory}");
    }
}
