using Kiln;
using Kiln.NN;

namespace FashionMnistSample;

/// <summary>
/// The Fashion-MNIST benchmark CNN: conv 5x5 32 'same' + ReLU, max pool 2, conv 5x5 64 'same' + ReLU,
/// max pool 2, dense 1024 + ReLU, dropout 0.4, dense 10.
/// </summary>
internal sealed class Cnn : Network
{
    private readonly Tensor _c1, _c1b, _c2, _c2b, _f1, _f1b, _f2, _f2b;

    internal Cnn()
    {
        _c1 = Parameter([32, 1, 5, 5], 1 * 25); _c1b = Parameter([32], 1 * 25);
        _c2 = Parameter([64, 32, 5, 5], 32 * 25); _c2b = Parameter([64], 32 * 25);
        _f1 = Parameter([1024, 64 * 7 * 7], 64 * 7 * 7); _f1b = Parameter([1024], 64 * 7 * 7);
        _f2 = Parameter([10, 1024], 1024); _f2b = Parameter([10], 1024);
    }

    internal override Tensor Forward(Tensor images, bool training)
    {
        var x = F.MaxPool2d(F.Relu(F.Conv2d(images, _c1, _c1b, padding: Padding.Same)), 2);
        x = F.MaxPool2d(F.Relu(F.Conv2d(x, _c2, _c2b, padding: Padding.Same)), 2);
        x = F.Relu(F.Linear(x.Flatten(1), _f1, _f1b));
        x = F.Dropout(x, 0.4, training);
        return F.Linear(x, _f2, _f2b);
    }

    public override string ToString() => "CNN conv5x5(32)-pool-conv5x5(64)-pool-1024-dropout(0.4)-10";
}
