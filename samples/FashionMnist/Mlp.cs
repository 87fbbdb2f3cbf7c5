using Kiln;
using Kiln.NN;

namespace FashionMnistSample;

/// <summary>784-256-128-10 with ReLU.</summary>
internal sealed class Mlp : Network
{
    private readonly Tensor _w1, _b1, _w2, _b2, _w3, _b3;

    internal Mlp()
    {
        _w1 = Parameter([256, 784], 784); _b1 = Parameter([256], 784);
        _w2 = Parameter([128, 256], 256); _b2 = Parameter([128], 256);
        _w3 = Parameter([10, 128], 128); _b3 = Parameter([10], 128);
    }

    internal override Tensor Forward(Tensor images, bool training)
    {
        var x = images.Flatten(1);
        x = F.Relu(F.Linear(x, _w1, _b1));
        x = F.Relu(F.Linear(x, _w2, _b2));
        return F.Linear(x, _w3, _b3);
    }

    public override string ToString() => "MLP 784-256-128-10 (ReLU)";
}
