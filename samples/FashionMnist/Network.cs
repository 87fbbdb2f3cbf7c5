using Kiln;

namespace FashionMnistSample;

/// <summary>
/// A model written with plain tensors and F ops: its parameters and its forward pass. (Kiln.NN's
/// Module, which finds parameters by itself, arrives with a later issue.)
/// </summary>
internal abstract class Network
{
    private readonly List<Tensor> _parameters = [];

    internal IReadOnlyList<Tensor> Parameters => _parameters;

    internal long ParameterCount => _parameters.Sum(p => (long)p.NumElements);

    /// <summary>Logits [N, 10] for images [N, 1, 28, 28].</summary>
    internal abstract Tensor Forward(Tensor images, bool training);

    /// <summary>
    /// A parameter drawn from U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's default for Linear and Conv2d
    /// weights and biases, so this recipe trains as the same recipe does in PyTorch.
    /// </summary>
    protected Tensor Parameter(int[] shape, int fanIn)
    {
        double bound = 1 / Math.Sqrt(fanIn);
        var p = Tensor.Uniform(-bound, bound, shape);
        p.RequiresGrad = true;
        _parameters.Add(p);
        return p;
    }
}
