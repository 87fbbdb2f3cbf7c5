namespace Kiln.Kernels.Cpu;

/// <summary>
/// The sizes of one 2-D convolution in NCHW layout: input [Batch, Channels, Height, Width], weight
/// [OutChannels, Channels / Groups, KernelHeight, KernelWidth], output [Batch, OutChannels, OutHeight,
/// OutWidth]. Only the top and left padding are needed here: the bottom and right padding are implied
/// by the output size.
/// </summary>
internal readonly record struct ConvGeometry(
    int Batch, int Channels, int Height, int Width,
    int OutChannels, int Groups, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PadTop, int PadLeft,
    int DilationHeight, int DilationWidth, int OutHeight, int OutWidth)
{
    internal int GroupChannels => Channels / Groups;
    internal int GroupOutChannels => OutChannels / Groups;
    internal int KernelArea => KernelHeight * KernelWidth;

    /// <summary>Rows of the unfolded (im2col) matrix of one group: input channels times kernel taps.</summary>
    internal int PatchSize => GroupChannels * KernelArea;

    internal int InArea => Height * Width;
    internal int OutArea => OutHeight * OutWidth;

    /// <summary>A 1x1 kernel with stride 1 and no padding: the input planes are already the unfolded matrix.</summary>
    internal bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && OutHeight == Height && OutWidth == Width;

    /// <summary>Each group sees one input channel: the direct per-channel kernels beat unfolding plus a thin GEMM.</summary>
    internal bool IsDepthwise => GroupChannels == 1 && Groups > 1;

    /// <summary>The output columns [Start, End) whose input column for kernel column <paramref name="kx"/> lies inside the image.</summary>
    internal (int Start, int End) ValidColumns(int kx) => ValidRange(kx * DilationWidth - PadLeft, StrideWidth, Width, OutWidth);

    /// <summary>The output rows [Start, End) whose input row for kernel row <paramref name="ky"/> lies inside the image.</summary>
    internal (int Start, int End) ValidRows(int ky) => ValidRange(ky * DilationHeight - PadTop, StrideHeight, Height, OutHeight);

    /// <summary>The outputs o in [0, outSize) with 0 &lt;= o * stride + offset &lt; size.</summary>
    internal static (int Start, int End) ValidRange(int offset, int stride, int size, int outSize)
    {
        int start = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = size - 1 - offset;
        int end = last < 0 ? 0 : last / stride + 1;
        start = Math.Min(start, outSize);
        end = Math.Clamp(end, start, outSize);
        return (start, end);
    }
}
