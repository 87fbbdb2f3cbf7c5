using Kiln.NN;

namespace FashionMnistSample;

/// <summary>The two models of the sample, built from Kiln.NN layers with PyTorch's default initialization.</summary>
internal static class Models
{
    /// <summary>
    /// The Fashion-MNIST benchmark CNN: conv 5x5 32 'same' + ReLU, max pool 2, conv 5x5 64 'same' + ReLU,
    /// max pool 2, dense 1024 + ReLU, dropout 0.4, dense 10.
    /// </summary>
    internal static Sequential Cnn() => new(
        new Conv2d(1, 32, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Conv2d(32, 64, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));

    /// <summary>784-256-128-10 with ReLU.</summary>
    internal static Sequential Mlp() => new(
        new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
}
