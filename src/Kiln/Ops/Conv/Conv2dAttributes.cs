using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Attributes of a 2-D convolution: <see cref="Stride"/> and <see cref="Dilation"/> as [height, width],
/// <see cref="Padding"/> as [top, left, bottom, right] (ONNX's order; "same" padding may be uneven),
/// and the number of channel <see cref="Groups"/>. The gradient ops carry the same record, so the
/// shape rules below serve all three.
/// </summary>
internal sealed record Conv2dAttributes(IntList Stride, IntList Padding, IntList Dilation, int Groups) : OpAttributes
{
    /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
    internal override void Write(AttributeWriter writer)
    {
        writer.Ints(Stride);
        writer.Ints(Padding);
        writer.Ints(Dilation);
        writer.Int32(Groups);
    }

    internal static Conv2dAttributes Read(AttributeReader reader) => new(reader.Ints("stride"), reader.Ints("padding"), reader.Ints("dilation"), reader.Int32("groups", 1));

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<Conv2dAttributes>.Reader = Read;

    internal static Conv2dAttributes Create(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups)
        => new(new IntList(strideH, strideW), new IntList(padH, padW, padH, padW), new IntList(dilationH, dilationW), groups);

    internal int StrideH => Stride[0];
    internal int StrideW => Stride[1];
    internal int PadTop => Padding[0];
    internal int PadLeft => Padding[1];
    internal int PadBottom => Padding[2];
    internal int PadRight => Padding[3];
    internal int DilationH => Dilation[0];
    internal int DilationW => Dilation[1];

    /// <summary>
    /// Padding [top, left, bottom, right] for "same" output size: out = ceil(in / stride), the total
    /// split evenly with any odd element at the bottom/right (PyTorch's rule for stride 1, TensorFlow's
    /// for larger strides).
    /// </summary>
    internal static IntList SamePadding(int height, int width, int kernelH, int kernelW, int strideH, int strideW, int dilationH, int dilationW)
    {
        var (top, bottom) = SameSplit(height, kernelH, strideH, dilationH);
        var (left, right) = SameSplit(width, kernelW, strideW, dilationW);
        return new IntList(top, left, bottom, right);
    }

    private static (int Before, int After) SameSplit(int size, int kernel, int stride, int dilation)
    {
        long outSize = (size + (long)stride - 1) / stride;
        long total = Math.Max((outSize - 1) * stride + (long)(kernel - 1) * dilation + 1 - size, 0);
        int before = (int)(total / 2);
        return (before, (int)(total - before));
    }

    /// <summary>Output height and width for an input of <paramref name="height"/>×<paramref name="width"/> (may be &lt; 1 for a too-large kernel).</summary>
    internal (long Height, long Width) OutputSize(int height, int width, int kernelH, int kernelW) =>
        (Floor(height + (long)PadTop + PadBottom - (long)DilationH * (kernelH - 1) - 1, StrideH) + 1,
         Floor(width + (long)PadLeft + PadRight - (long)DilationW * (kernelW - 1) - 1, StrideW) + 1);

    private static long Floor(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>
    /// Checks every rule of a convolution of input [N, C, H, W] with weight [O, C/groups, kH, kW] and
    /// returns the output size; the errors name the op <paramref name="op"/> and its inputs by role.
    /// </summary>
    internal (int Height, int Width) Check(string op, ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<string> roles,
        int channels, int height, int width, int outChannels, int groupChannels, int kernelH, int kernelW)
    {
        if (Stride.Count != 2 || Dilation.Count != 2 || Padding.Count != 4)
            throw SpatialShapeError.Create(op, $"stride {Stride} and dilation {Dilation} need 2 values and padding {Padding} needs 4 (top, left, bottom, right)", inputs, roles);
        if (StrideH < 1 || StrideW < 1) throw SpatialShapeError.Create(op, $"stride {Stride} must be positive", inputs, roles);
        if (DilationH < 1 || DilationW < 1) throw SpatialShapeError.Create(op, $"dilation {Dilation} must be positive", inputs, roles);
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            throw SpatialShapeError.Create(op, $"padding {Padding} must not be negative", inputs, roles);
        if (Groups < 1) throw SpatialShapeError.Create(op, $"groups={Groups} must be positive", inputs, roles);
        if ((long)groupChannels * Groups != channels)
            throw SpatialShapeError.Create(op, $"input has {channels} channels, weight expects {(long)groupChannels * Groups} (groups={Groups})", inputs, roles);
        if (outChannels % Groups != 0)
            throw SpatialShapeError.Create(op, $"weight has {outChannels} output channels, which groups={Groups} does not divide", inputs, roles);
        if (kernelH < 1 || kernelW < 1)
            throw SpatialShapeError.Create(op, $"kernel {kernelH}x{kernelW} is empty", inputs, roles);
        var (oh, ow) = OutputSize(height, width, kernelH, kernelW);
        if (oh < 1 || ow < 1)
        {
            long effectiveH = (long)DilationH * (kernelH - 1) + 1, effectiveW = (long)DilationW * (kernelW - 1) + 1;
            throw SpatialShapeError.Create(op,
                $"kernel {effectiveH}x{effectiveW} (after dilation {Dilation}) is larger than the padded input {height + (long)PadTop + PadBottom}x{width + (long)PadLeft + PadRight}",
                inputs, roles);
        }
        return ((int)oh, (int)ow);
    }

    /// <summary>
    /// The naive loops the convolution references share: calls <paramref name="tap"/>(input index,
    /// weight index, output index) into contiguous [N, C, H, W], [O, C/groups, kH, kW] and
    /// [N, O, OH, OW] arrays for every product of the convolution that falls inside the unpadded input,
    /// in row-major output order and, within one output element, in (channel, ky, kx) order.
    /// </summary>
    internal void ReferenceTaps(int batch, int channels, int height, int width, int outChannels, int kernelH, int kernelW,
        int outHeight, int outWidth, Action<int, int, int> tap)
    {
        int groupChannels = channels / Groups, groupOut = outChannels / Groups;
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < outChannels; o++)
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        for (int ci = 0; ci < groupChannels; ci++)
        for (int ky = 0; ky < kernelH; ky++)
        for (int kx = 0; kx < kernelW; kx++)
        {
            int c = o / groupOut * groupChannels + ci;
            int iy = oy * StrideH - PadTop + ky * DilationH, ix = ox * StrideW - PadLeft + kx * DilationW;
            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
            tap(((n * channels + c) * height + iy) * width + ix, ((o * groupChannels + ci) * kernelH + ky) * kernelW + kx,
                ((n * outChannels + o) * outHeight + oy) * outWidth + ox);
        }
    }

    internal ConvGeometry Geometry(int batch, int channels, int height, int width, int outChannels, int kernelH, int kernelW, int outHeight, int outWidth)
        => new(batch, channels, height, width, outChannels, Groups, kernelH, kernelW,
            StrideH, StrideW, PadTop, PadLeft, DilationH, DilationW, outHeight, outWidth);

    /// <summary>Runs one of the convolution kernels on float32 or float64 contiguous data.</summary>
    internal static unsafe void Run(Tensor a, Tensor b, Tensor output, ConvGeometry g,
        ConvKernelCall<float> single, ConvKernelCall<double> @double)
    {
        using var first = new ContiguousInput(a);
        using var second = new ContiguousInput(b);
        if (output.DType == DType.Float32) single(g, first.Pointer<float>(), second.Pointer<float>(), output.Pointer<float>());
        else @double(g, first.Pointer<double>(), second.Pointer<double>(), output.Pointer<double>());
    }

    internal unsafe delegate void ConvKernelCall<T>(in ConvGeometry g, T* a, T* b, T* output) where T : unmanaged;
}
