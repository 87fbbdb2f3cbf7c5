using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

[Collection(RandomStateCollection.Name)]
public sealed class LayerConstructionTests
{
    public static TheoryData<string, Action> BadArguments() => new()
    {
        { "inFeatures", () => new Linear(0, 3) },
        { "outFeatures", () => new Linear(3, -1) },
        { "inChannels", () => new Conv2d(0, 3, 3) },
        { "kernelSize", () => new Conv2d(1, 3, (3, 0)) },
        { "stride", () => new Conv2d(1, 3, 3, stride: 0) },
        { "dilation", () => new Conv2d(1, 3, 3, dilation: -1) },
        { "padding", () => new Conv2d(1, 3, 3, padding: -1) },
        { "groups", () => new Conv2d(4, 6, 3, groups: 4) },
        { "groups", () => new Conv2d(3, 6, 3, groups: 2) },
        { "groups", () => new Conv2d(4, 4, 3, groups: 0) },
        { "groups", () => new Conv1d(3, 6, 3, groups: 2) },
        { "padding", () => new Conv1d(3, 6, 3, padding: (1, 2)) },
        { "outChannels", () => new ConvTranspose2d(3, 0, 3) },
        { "outputPadding", () => new ConvTranspose2d(3, 3, 3, stride: 2, outputPadding: 2) },
        { "padding", () => new ConvTranspose2d(3, 3, 3, padding: Padding.Same) },
        { "groups", () => new ConvTranspose2d(4, 6, 3, groups: 4) },
        { "kernelSize", () => new MaxPool2d(0) },
        { "padding", () => new MaxPool2d(2, padding: Padding.Same) },
        { "stride", () => new AvgPool2d(2, stride: (1, 0)) },
        { "outputSize", () => new AdaptiveAvgPool2d(0) },
        { "numFeatures", () => new BatchNorm1d(0) },
        { "momentum", () => new BatchNorm2d(3, momentum: 1.5) },
        { "eps", () => new BatchNorm2d(3, eps: -1) },
        { "normalizedShape", () => new LayerNorm(0) },
        { "normalizedShape", () => new LayerNorm([]) },
        { "numGroups", () => new GroupNorm(3, 4) },
        { "numChannels", () => new GroupNorm(1, 0) },
        { "p", () => new Dropout(1.5) },
        { "numEmbeddings", () => new Embedding(0, 3) },
        { "embeddingDim", () => new Embedding(3, 0) },
        { "paddingIdx", () => new Embedding(3, 2, paddingIdx: 3) },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Layer_constructor_rejects_bad_arguments_naming_them(string argument, Action create)
        => Assert.Equal(argument, Assert.ThrowsAny<ArgumentException>(create).ParamName);

    [Fact]
    public void Layers_have_pytorch_shaped_parameters()
    {
        Assert.Equal([10, 3136], new Linear(3136, 10).Weight.Shape.ToArray());
        Assert.Equal([8, 2, 3, 5], new Conv2d(4, 8, (3, 5), groups: 2).Weight.Shape.ToArray());
        Assert.Equal([8, 2, 3], new Conv1d(4, 8, 3, groups: 2).Weight.Shape.ToArray());
        Assert.Equal([4, 4, 3, 3], new ConvTranspose2d(4, 8, 3, groups: 2).Weight.Shape.ToArray());
        Assert.Equal([10, 3], new Embedding(10, 3).Weight.Shape.ToArray());
        var bn = new BatchNorm2d(6);
        Assert.Equal(DType.Int64, bn.NumBatchesTracked!.DType);
        Assert.Equal(0, bn.NumBatchesTracked.Rank);
        Assert.Equal(Enumerable.Repeat(1f, 6), bn.Weight!.ToArray<float>());
        Assert.Equal(Enumerable.Repeat(0f, 6), bn.Bias!.ToArray<float>());
        Assert.Equal(Enumerable.Repeat(0f, 6), bn.RunningMean!.ToArray<float>());
        Assert.Equal(Enumerable.Repeat(1f, 6), bn.RunningVar!.ToArray<float>());
        var plain = new BatchNorm1d(6, affine: false, trackRunningStats: false);
        Assert.Empty(plain.Parameters());
        Assert.Empty(plain.Buffers());
        Assert.Empty(plain.StateDict());
    }

    [Fact]
    public void Linear_and_convolution_initialization_is_uniform_within_one_over_sqrt_fan_in()
    {
        Engine.ManualSeed(11);
        var cases = new (Tensor Weight, Tensor? Bias, int FanIn)[]
        {
            (new Linear(300, 200).Weight, new Linear(300, 200).Bias, 300),
            (new Conv2d(8, 64, 5, groups: 2).Weight, new Conv2d(8, 64, 5, groups: 2).Bias, 4 * 25),
            (new ConvTranspose2d(64, 32, 3, groups: 4).Weight, new ConvTranspose2d(64, 32, 3, groups: 4).Bias, 8 * 9),
            (new Conv1d(16, 32, 3).Weight, new Conv1d(16, 32, 3).Bias, 48),
        };
        foreach (var (weight, bias, fanIn) in cases)
        {
            double bound = 1 / Math.Sqrt(fanIn);
            foreach (var t in new[] { weight, bias! })
            {
                var v = t.ToArray<float>();
                Assert.All(v, x => Assert.InRange(x, -bound, bound));
                // A uniform distribution on [-b, b] has variance b²/3; its maximum lies near b.
                double mean = v.Average(x => (double)x), variance = v.Average(x => (double)x * x);
                Assert.InRange(mean, -0.2 * bound, 0.2 * bound);
                Assert.InRange(variance, bound * bound / 3 * 0.75, bound * bound / 3 * 1.25);
                Assert.True(v.Max(Math.Abs) > 0.9 * bound);
            }
        }
    }

    [Fact]
    public void Embedding_initialization_is_standard_normal()
    {
        Engine.ManualSeed(5);
        var v = new Embedding(1000, 20).Weight.ToArray<float>();
        Assert.InRange(v.Average(x => (double)x), -0.03, 0.03);
        Assert.InRange(v.Average(x => (double)x * x), 0.95, 1.05);
    }

    [Fact]
    public void Layer_initialization_follows_the_seed()
    {
        Engine.ManualSeed(42);
        var a = new Linear(5, 4).Weight.ToArray<float>();
        Engine.ManualSeed(42);
        Assert.Equal(a, new Linear(5, 4).Weight.ToArray<float>());
    }
}
