using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The window of a 2-D max or average pool: <see cref="Kernel"/>, <see cref="Stride"/>,
/// <see cref="Padding"/> (added on both sides) and <see cref="Dilation"/>, each [height, width], and
/// whether the output size rounds up (<see cref="CeilMode"/>), with PyTorch's rules.
/// </summary>
internal sealed record Pool2dAttributes(IntList Kernel, IntList Stride, IntList Padding, IntList Dilation, bool CeilMode) : OpAttributes
{
    /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
    internal override void Write(AttributeWriter writer)
    {
        writer.Ints(Kernel);
        writer.Ints(Stride);
        writer.Ints(Padding);
        writer.Ints(Dilation);
        writer.Bool(CeilMode);
    }

    internal static Pool2dAttributes Read(AttributeReader reader) => new(reader.Ints("kernel"), reader.Ints("stride"), reader.Ints("padding"), reader.Ints("dilation"), reader.Bool("ceil_mode"));

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<Pool2dAttributes>.Reader = Read;

    internal static Pool2dAttributes Create(int kernelH, int kernelW, int strideH, int strideW, int padH = 0, int padW = 0,
        int dilationH = 1, int dilationW = 1, bool ceilMode = false)
        => new(new IntList(kernelH, kernelW), new IntList(strideH, strideW), new IntList(padH, padW), new IntList(dilationH, dilationW), ceilMode);

    /// <summary>
    /// PyTorch's pooling output size: floor (or ceil) of (size + 2·pad − dilation·(kernel − 1) − 1) / stride + 1,
    /// where in ceil mode a last window that would start inside the right padding is dropped.
    /// </summary>
    internal static long OutputSize(int size, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long numerator = size + 2L * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long output = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1;
        if (ceilMode && (output - 1) * stride >= size + (long)pad) output--;
        return output;
    }

    /// <summary>Checks the window against an input of <paramref name="height"/>×<paramref name="width"/> and returns the output size.</summary>
    internal (int Height, int Width) Check(string op, ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<string> roles, int height, int width)
    {
        if (Kernel.Count != 2 || Stride.Count != 2 || Padding.Count != 2 || Dilation.Count != 2)
            throw SpatialShapeError.Create(op, $"kernel {Kernel}, stride {Stride}, padding {Padding} and dilation {Dilation} need 2 values each", inputs, roles);
        for (int i = 0; i < 2; i++)
        {
            if (Kernel[i] < 1) throw SpatialShapeError.Create(op, $"kernel size {Kernel} must be positive", inputs, roles);
            if (Stride[i] < 1) throw SpatialShapeError.Create(op, $"stride {Stride} must be positive", inputs, roles);
            if (Dilation[i] < 1) throw SpatialShapeError.Create(op, $"dilation {Dilation} must be positive", inputs, roles);
            if (Padding[i] < 0 || Padding[i] > Kernel[i] / 2)
                throw SpatialShapeError.Create(op, $"padding {Padding} must be between 0 and half the kernel size {Kernel}", inputs, roles);
        }
        long oh = OutputSize(height, Kernel[0], Stride[0], Padding[0], Dilation[0], CeilMode);
        long ow = OutputSize(width, Kernel[1], Stride[1], Padding[1], Dilation[1], CeilMode);
        if (oh < 1 || ow < 1)
            throw SpatialShapeError.Create(op,
                $"output would be {oh}x{ow}: kernel {Kernel} (dilation {Dilation}) does not fit the input {height}x{width} with padding {Padding}", inputs, roles);
        return ((int)oh, (int)ow);
    }

    internal PoolKernel.Window Window(int height, int width, int outHeight, int outWidth)
        => new(height, width, outHeight, outWidth, Kernel[0], Kernel[1], Stride[0], Stride[1], Padding[0], Padding[1], Dilation[0], Dilation[1]);

    /// <summary>For the references: the value of window (oy, ox) folded over its taps inside the input.</summary>
    internal IEnumerable<(int Y, int X)> Taps(int oy, int ox, int height, int width)
    {
        for (int ky = 0; ky < Kernel[0]; ky++)
        {
            int iy = oy * Stride[0] - Padding[0] + ky * Dilation[0];
            if (iy < 0 || iy >= height) continue;
            for (int kx = 0; kx < Kernel[1]; kx++)
            {
                int ix = ox * Stride[1] - Padding[1] + kx * Dilation[1];
                if (ix >= 0 && ix < width) yield return (iy, ix);
            }
        }
    }
}
