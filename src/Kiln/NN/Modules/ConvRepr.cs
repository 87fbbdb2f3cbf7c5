using System.Text;

namespace Kiln.NN;

/// <summary>PyTorch's <c>_ConvNd.extra_repr</c>: the settings that differ from their defaults.</summary>
internal static class ConvRepr
{
    /// <summary>The convolution's printout; <paramref name="padding"/> null stands for "same".</summary>
    internal static string Format(int inChannels, int outChannels, int[] kernel, int[] stride, int[]? padding, int[] dilation,
        int[] outputPadding, int groups, bool bias)
    {
        var sb = new StringBuilder($"{inChannels}, {outChannels}, kernel_size={PyRepr.Tuple(kernel)}, stride={PyRepr.Tuple(stride)}");
        if (padding is null) sb.Append(", padding=same");
        else if (padding.Any(p => p != 0)) sb.Append(", padding=").Append(PyRepr.Tuple(padding));
        if (dilation.Any(d => d != 1)) sb.Append(", dilation=").Append(PyRepr.Tuple(dilation));
        if (outputPadding.Any(p => p != 0)) sb.Append(", output_padding=").Append(PyRepr.Tuple(outputPadding));
        if (groups != 1) sb.Append(", groups=").Append(groups);
        if (!bias) sb.Append(", bias=False");
        return sb.ToString();
    }
}
