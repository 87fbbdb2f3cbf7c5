namespace Kiln.NN;

/// <summary>The nonlinearity an initializer scales its weights for (PyTorch's <c>nonlinearity</c> strings); see <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity
{
    /// <summary>Identity (gain 1).</summary>
    Linear,
    /// <summary>1-D convolution (gain 1).</summary>
    Conv1d,
    /// <summary>2-D convolution (gain 1).</summary>
    Conv2d,
    /// <summary>3-D convolution (gain 1).</summary>
    Conv3d,
    /// <summary>1-D transposed convolution (gain 1).</summary>
    ConvTranspose1d,
    /// <summary>2-D transposed convolution (gain 1).</summary>
    ConvTranspose2d,
    /// <summary>3-D transposed convolution (gain 1).</summary>
    ConvTranspose3d,
    /// <summary>Sigmoid (gain 1).</summary>
    Sigmoid,
    /// <summary>Tanh (gain 5/3).</summary>
    Tanh,
    /// <summary>ReLU (gain √2).</summary>
    Relu,
    /// <summary>Leaky ReLU with a negative slope (gain √(2 / (1 + slope²)), slope 0.01 by default).</summary>
    LeakyRelu,
    /// <summary>SELU (gain 3/4).</summary>
    Selu,
}
