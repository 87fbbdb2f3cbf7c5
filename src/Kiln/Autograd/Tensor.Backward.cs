using Kiln.Autograd;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// Computes the gradient of this tensor with respect to every leaf that requires grad and adds it
    /// to their <see cref="Grad"/>. A non-scalar tensor needs <paramref name="gradient"/> of its shape.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
        => BackwardEngine.Backward(this, gradient, retainGraph || createGraph, createGraph);
}
