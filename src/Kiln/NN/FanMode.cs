namespace Kiln.NN;

/// <summary>Which fan the Kaiming initializers preserve the variance of (PyTorch's <c>mode</c>).</summary>
public enum FanMode
{
    /// <summary>The number of inputs of a unit: the forward pass keeps its variance.</summary>
    FanIn,
    /// <summary>The number of outputs of a unit: the backward pass keeps its variance.</summary>
    FanOut,
}
