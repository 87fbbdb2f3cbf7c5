using Kiln.Compile;
using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Tensors;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

/// <summary>
/// The lowering pass that turns Conv2d nodes into FusedConv2d: which nodes it rewrites (constant weights
/// packed once, a ReLU that alone reads the convolution folded into its epilogue), that a frozen
/// Fashion-MNIST CNN keeps the eager bits, and that such a graph still saves and loads.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class Conv2dFusionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-convfusion-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Constant_conv_weight_is_packed_and_the_relu_that_alone_reads_the_convolution_is_folded_in()
    {
        var w = Uniform(1, 16, 8, 5, 5);
        var b = Uniform(2, 16);
        var graph = Trace(xs => [F.Conv2d(xs[0], w, b, padding: 2).Relu()], Uniform(3, 1, 8, 6, 6));
        var text = AfterPass(graph, new Conv2dFusionPass());
        Assert.Contains("= FusedConv2d(%in0, %c0, %c1) { Conv = ", text);
        Assert.Contains("Relu = True, Packed = 16x8x5x5 conv panels }", text);
        Assert.DoesNotContain("= Relu(", text);
        Assert.DoesNotContain("= Conv2d(", text);
        Assert.Single(graph.Nodes);
    }

    [Fact]
    public void A_convolution_read_elsewhere_keeps_its_relu_and_parameters_are_not_packed()
    {
        var w = Uniform(4, 16, 8, 3, 3);
        var live = Uniform(5, 9, 8, 3, 3);
        live.RequiresGrad = true;
        var graph = Trace(xs =>
        {
            var y = F.Conv2d(xs[0], w, padding: 1);
            return [y.Relu(), y.Sum(), F.Conv2d(xs[0], live, padding: 1).Relu()];
        }, Uniform(6, 2, 8, 5, 5));
        var text = AfterPass(graph, new Conv2dFusionPass());
        Assert.Contains("Relu = False, Packed = 16x8x3x3 conv panels }", text);
        Assert.Contains("= Relu(", text); // y is also summed: its ReLU stays a node of its own
        Assert.Contains("Relu = True, Packed =  }", text); // a live parameter: ReLU folded, weights packed per call
        Assert.DoesNotContain("= Conv2d(", text);
    }

    [Fact]
    public void Float64_and_plain_convolutions_are_left_alone()
    {
        var w = Uniform(7, 4, 2, 3, 3).To(DType.Float64);
        var graph = Trace(xs => [F.Conv2d(xs[0], w, padding: 1).Relu(), F.Conv2d(xs[1], Uniform(8, 16, 8, 3, 3))],
            Uniform(9, 1, 2, 5, 5).To(DType.Float64), Uniform(10, 1, 8, 5, 5));
        Assert.True(new Conv2dFusionPass().Run(graph)); // the float32 constant is packed
        var text = graph.ToString();
        Assert.Contains("= Relu(", text);
        Assert.Contains("= Conv2d(", text);
    }

    private static Sequential FashionCnn() => CompiledModuleTests.FashionCnn(32, 64, 1024);

    private static Tensor Eager(Module model, Tensor x)
    {
        using (Engine.NoGrad()) return model.Call(x);
    }

    /// <summary>
    /// conv2's constant weight is Winograd-transformed at compile time, so it runs Winograd at every batch
    /// size; eager runs it from 4 images on (196 tiles, where the per-call weight transform pays), and there
    /// the bits are the same; below that eager runs the implicit GEMM, whose sums round differently.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Frozen_fashion_cnn_matches_eager_with_transformed_convolutions_and_folded_relus(int batch)
    {
        Engine.ManualSeed(41);
        var model = FashionCnn();
        model.Eval();
        using var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true });
        for (int call = 0; call < 2; call++)
        {
            var x = Uniform(50 + call, 0.0, 1.0, batch, 1, 28, 28);
            var expected = Eager(model, x);
            var actual = compiled.Call(x);
            if (batch >= 4)
            {
                SameBits(expected, actual, $"batch {batch}, call {call}");
                continue;
            }
            var (e, a) = (expected.ToArray<float>(), actual.ToArray<float>());
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 * Math.Max(1, Math.Abs(e[i])), $"batch {batch}, call {call}: logit {i} is {a[i]:R}, eager {e[i]:R}");
        }
        var text = compiled.GraphText;
        Assert.Equal(2, text.Split("= FusedConv2d(").Length - 1);
        Assert.Contains("Packed = 64x32x5x5 Winograd-transformed", text); // conv1's 25-tap patch runs im2col: nothing to pack
        Assert.Equal(1, text.Split("= Relu(").Length - 1); // only the dense layer's ReLU is left
    }

    [Fact]
    public void Frozen_cnn_with_fused_convolutions_saves_its_portable_graph_and_loads_with_the_same_bits()
    {
        Engine.ManualSeed(42);
        var model = FashionCnn();
        model.Eval();
        using var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true });
        var x = Uniform(60, 0.0, 1.0, 1, 1, 28, 28);
        // The first call traces (running the eager ops); the second replays the optimized graph, Winograd included.
        compiled.Call(x);
        var expected = compiled.Call(x);
        var path = Path.Combine(_dir, "frozen-cnn.kiln");
        compiled.Save(path);
        using var loaded = Engine.Load(path);
        SameBits(expected, loaded.Call(x), "loaded");
        SameBits(expected, loaded.Call(x), "loaded, again");
        Assert.Contains("Packed = 64x32x5x5 Winograd-transformed", loaded.GraphText); // the loaded constants are transformed again
    }
}
