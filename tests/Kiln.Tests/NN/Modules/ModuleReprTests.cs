using Kiln.NN;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.NN.Modules;

/// <summary>
/// The expected strings were printed by PyTorch 1.13 (<c>/usr/bin/python3 -c 'import torch.nn as nn;
/// print(nn.…)'</c>) for the same constructor arguments, and pasted here.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class ModuleReprTests
{
    [Fact]
    public void ToString_prints_the_fashion_mnist_cnn_as_pytorch_does()
    {
        var model = new Sequential(
            new Conv2d(1, 32, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Conv2d(32, 64, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));
        // print(nn.Sequential(nn.Conv2d(1,32,5,padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32,64,5,padding=2),
        //   nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136,1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024,10)))
        const string expected = """
            Sequential(
              (0): Conv2d(1, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
              (1): ReLU()
              (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
              (3): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
              (4): ReLU()
              (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
              (6): Flatten(start_dim=1, end_dim=-1)
              (7): Linear(in_features=3136, out_features=1024, bias=True)
              (8): ReLU()
              (9): Dropout(p=0.4, inplace=False)
              (10): Linear(in_features=1024, out_features=10, bias=True)
            )
            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), model.ToString());
    }

    public static TheoryData<string, Func<Module>> Layers() => new()
    {
        { "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), bias=False)", () => new Conv2d(3, 8, 3, stride: 2, padding: 1, dilation: 2, bias: false) },
        { "Conv2d(4, 8, kernel_size=(3, 5), stride=(1, 1), padding=same)", () => new Conv2d(4, 8, (3, 5), padding: Padding.Same) },
        { "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 2), groups=2)", () => new Conv2d(4, 8, 3, padding: (1, 2), groups: 2) },
        { "Conv1d(4, 8, kernel_size=(3,), stride=(1,))", () => new Conv1d(4, 8, 3) },
        { "Conv1d(4, 8, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), groups=2, bias=False)", () => new Conv1d(4, 8, 3, stride: 2, padding: 1, dilation: 2, groups: 2, bias: false) },
        { "Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=same)", () => new Conv1d(4, 8, 3, padding: Padding.Same) },
        { "ConvTranspose2d(4, 8, kernel_size=(3, 3), stride=(1, 1))", () => new ConvTranspose2d(4, 8, 3) },
        { "ConvTranspose2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)",
            () => new ConvTranspose2d(4, 8, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, bias: false, dilation: 2) },
        { "ConvTranspose2d(4, 8, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0))", () => new ConvTranspose2d(4, 8, (2, 3), stride: (2, 1), padding: (1, 0)) },
        { "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)", () => new MaxPool2d(3, stride: 2, padding: 1, dilation: 2, ceilMode: true) },
        { "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)", () => new MaxPool2d((2, 3)) },
        { "AvgPool2d(kernel_size=2, stride=2, padding=0)", () => new AvgPool2d(2) },
        { "AvgPool2d(kernel_size=3, stride=2, padding=1)", () => new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false) },
        { "AdaptiveAvgPool2d(output_size=1)", () => new AdaptiveAvgPool2d(1) },
        { "AdaptiveAvgPool2d(output_size=(2, 3))", () => new AdaptiveAvgPool2d((2, 3)) },
        { "BatchNorm1d(10, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", () => new BatchNorm1d(10) },
        { "BatchNorm2d(10, eps=0.001, momentum=0.01, affine=False, track_running_stats=False)", () => new BatchNorm2d(10, eps: 1e-3, momentum: 0.01, affine: false, trackRunningStats: false) },
        { "BatchNorm2d(10, eps=1e-05, momentum=None, affine=True, track_running_stats=True)", () => new BatchNorm2d(10, momentum: null) },
        { "BatchNorm1d(5, eps=0.001, momentum=0.3, affine=True, track_running_stats=True)", () => new BatchNorm1d(5, eps: 0.001, momentum: 0.3) },
        { "LayerNorm((10,), eps=1e-05, elementwise_affine=True)", () => new LayerNorm(10) },
        { "LayerNorm((3, 4), eps=1e-06, elementwise_affine=False)", () => new LayerNorm([3, 4], eps: 1e-6, elementwiseAffine: false) },
        { "LayerNorm((10,), eps=1e-12, elementwise_affine=True)", () => new LayerNorm(10, eps: 1e-12) },
        { "GroupNorm(2, 4, eps=1e-05, affine=True)", () => new GroupNorm(2, 4) },
        { "GroupNorm(2, 4, eps=0.001, affine=False)", () => new GroupNorm(2, 4, eps: 1e-3, affine: false) },
        { "Dropout(p=0.5, inplace=False)", () => new Dropout() },
        { "Dropout(p=0.0, inplace=False)", () => new Dropout(0.0) },
        { "Dropout(p=1e-05, inplace=False)", () => new Dropout(1e-5) },
        { "Dropout(p=0.3333333333333333, inplace=False)", () => new Dropout(1.0 / 3) },
        { "Embedding(10, 3)", () => new Embedding(10, 3) },
        { "Embedding(10, 3, padding_idx=0)", () => new Embedding(10, 3, paddingIdx: 0) },
        { "Embedding(10, 3, padding_idx=9)", () => new Embedding(10, 3, paddingIdx: -1) },
        { "Flatten(start_dim=0, end_dim=2)", () => new Flatten(0, 2) },
        { "Identity()", () => new Identity() },
        { "LeakyReLU(negative_slope=0.01)", () => new LeakyRelu() },
        { "LeakyReLU(negative_slope=0.2)", () => new LeakyRelu(0.2) },
        { "LeakyReLU(negative_slope=0.001)", () => new LeakyRelu(1e-3) },
        { "ELU(alpha=1.0)", () => new Elu() },
        { "ELU(alpha=0.5)", () => new Elu(0.5) },
        { "GELU(approximate='none')", () => new Gelu() },
        { "GELU(approximate='tanh')", () => new Gelu(GeluApproximation.Tanh) },
        { "Sigmoid()", () => new Sigmoid() },
        { "Tanh()", () => new Tanh() },
        { "SiLU()", () => new Silu() },
        { "Softplus(beta=1, threshold=20)", () => new Softplus() },
        { "Softplus(beta=2, threshold=10)", () => new Softplus(2, 10) },
        { "Softplus(beta=0.5, threshold=20)", () => new Softplus(0.5) },
        { "Softmax(dim=1)", () => new Softmax(1) },
        { "Softmax(dim=-1)", () => new Softmax(-1) },
        { "LogSoftmax(dim=1)", () => new LogSoftmax(1) },
        { "Linear(in_features=3, out_features=4, bias=False)", () => new Linear(3, 4, bias: false) },
        { "ModuleList()", () => new ModuleList() },
        { "Sequential()", () => new Sequential() },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void ToString_prints_each_layer_as_pytorch_does(string expected, Func<Module> create) => Assert.Equal(expected, create().ToString());

    [Fact]
    public void ToString_indents_nested_containers_as_pytorch_does()
    {
        // print(nn.Sequential(nn.Sequential(nn.Linear(1,2)), nn.ModuleList([nn.ReLU()])))
        const string nested = """
            Sequential(
              (0): Sequential(
                (0): Linear(in_features=1, out_features=2, bias=True)
              )
              (1): ModuleList(
                (0): ReLU()
              )
            )
            """;
        Assert.Equal(nested.ReplaceLineEndings("\n"), new Sequential(new Sequential(new Linear(1, 2)), new ModuleList([new Relu()])).ToString());
        // print(nn.ModuleDict({"a": nn.Linear(2,3), "b": nn.ReLU()}))
        const string dict = """
            ModuleDict(
              (a): Linear(in_features=2, out_features=3, bias=True)
              (b): ReLU()
            )
            """;
        Assert.Equal(dict.ReplaceLineEndings("\n"), new ModuleDict { ["a"] = new Linear(2, 3), ["b"] = new Relu() }.ToString());
    }

    private sealed class Net : Module
    {
        private readonly Conv2d _conv1 = new(1, 6, 5);
        private readonly List<Linear> _fcs = [new(16, 8), new(8, 2)];
        public BatchNorm2d Bn { get; } = new(6);
    }

    [Fact]
    public void ToString_prints_a_custom_module_with_its_class_name_and_field_names()
    {
        // class Net(nn.Module): __init__ sets self.conv1 = nn.Conv2d(1,6,5); self.fcs = nn.ModuleList([nn.Linear(16,8), nn.Linear(8,2)]);
        // self.bn = nn.BatchNorm2d(6); print(Net())
        const string expected = """
            Net(
              (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
              (fcs): ModuleList(
                (0): Linear(in_features=16, out_features=8, bias=True)
                (1): Linear(in_features=8, out_features=2, bias=True)
              )
              (bn): BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
            )
            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), new Net().ToString());
    }
}
