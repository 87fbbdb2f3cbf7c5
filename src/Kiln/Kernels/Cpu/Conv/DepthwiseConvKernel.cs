using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Direct convolution for groups of one input channel (depthwise, with any channel multiplier). Each
/// output plane is a sum of kH·kW shifted, scaled copies of its input plane; with a column stride of 1
/// every shift is a contiguous multiply-add over a run of an output row. Unfolding would copy the
/// input kH·kW times only to feed a GEMM with one row per group.
/// </summary>
internal static unsafe class DepthwiseConvKernel
{
    internal static void Forward<T>(in ConvGeometry g, T* input, T* weight, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, ow = g.OutWidth, sw = g.StrideWidth;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                T* x = input + ((nint)n * g.Channels + o / og) * g.InArea;
                T* y = output + ((nint)n * g.OutChannels + o) * g.OutArea;
                T* w = weight + (nint)o * g.KernelArea;
                new Span<T>(y, g.OutArea).Clear();
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    var (rowStart, rowEnd) = g.ValidRows(ky);
                    int rowOffset = ky * g.DilationHeight - g.PadTop;
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        var (start, end) = g.ValidColumns(kx);
                        if (start >= end) continue;
                        int colOffset = kx * g.DilationWidth - g.PadLeft;
                        T wv = w[ky * g.KernelWidth + kx];
                        for (int oy = rowStart; oy < rowEnd; oy++)
                        {
                            T* from = x + (nint)(oy * g.StrideHeight + rowOffset) * g.Width + colOffset;
                            T* to = y + (nint)oy * ow;
                            if (sw == 1)
                            {
                                var target = new Span<T>(to + start, end - start);
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(from + start, end - start), wv, target, target);
                            }
                            else
                            {
                                for (int ox = start; ox < end; ox++) to[ox] += wv * from[(nint)ox * sw];
                            }
                        }
                    }
                }
            }
        }
    }

    internal static void InputGrad<T>(in ConvGeometry g, T* grad, T* weight, T* gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, ow = g.OutWidth, sw = g.StrideWidth;
        new Span<T>(gradInput, checked(g.Batch * g.Channels * g.InArea)).Clear();
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                T* dx = gradInput + ((nint)n * g.Channels + o / og) * g.InArea;
                T* dy = grad + ((nint)n * g.OutChannels + o) * g.OutArea;
                T* w = weight + (nint)o * g.KernelArea;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    var (rowStart, rowEnd) = g.ValidRows(ky);
                    int rowOffset = ky * g.DilationHeight - g.PadTop;
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        var (start, end) = g.ValidColumns(kx);
                        if (start >= end) continue;
                        int colOffset = kx * g.DilationWidth - g.PadLeft;
                        T wv = w[ky * g.KernelWidth + kx];
                        for (int oy = rowStart; oy < rowEnd; oy++)
                        {
                            T* to = dx + (nint)(oy * g.StrideHeight + rowOffset) * g.Width + colOffset;
                            T* from = dy + (nint)oy * ow;
                            if (sw == 1)
                            {
                                var target = new Span<T>(to + start, end - start);
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(from + start, end - start), wv, target, target);
                            }
                            else
                            {
                                for (int ox = start; ox < end; ox++) to[(nint)ox * sw] += wv * from[ox];
                            }
                        }
                    }
                }
            }
        }
    }

    internal static void WeightGrad<T>(in ConvGeometry g, T* input, T* grad, T* gradWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = g.GroupOutChannels, ow = g.OutWidth, sw = g.StrideWidth;
        new Span<T>(gradWeight, checked(g.OutChannels * g.KernelArea)).Clear();
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                T* x = input + ((nint)n * g.Channels + o / og) * g.InArea;
                T* dy = grad + ((nint)n * g.OutChannels + o) * g.OutArea;
                T* dw = gradWeight + (nint)o * g.KernelArea;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    var (rowStart, rowEnd) = g.ValidRows(ky);
                    int rowOffset = ky * g.DilationHeight - g.PadTop;
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        var (start, end) = g.ValidColumns(kx);
                        if (start >= end) continue;
                        int colOffset = kx * g.DilationWidth - g.PadLeft;
                        T sum = T.Zero;
                        for (int oy = rowStart; oy < rowEnd; oy++)
                        {
                            T* from = x + (nint)(oy * g.StrideHeight + rowOffset) * g.Width + colOffset;
                            T* gy = dy + (nint)oy * ow;
                            if (sw == 1)
                            {
                                sum += TensorPrimitives.Dot(new ReadOnlySpan<T>(gy + start, end - start), new ReadOnlySpan<T>(from + start, end - start));
                            }
                            else
                            {
                                for (int ox = start; ox < end; ox++) sum += gy[ox] * from[(nint)ox * sw];
                            }
                        }
                        dw[ky * g.KernelWidth + kx] += sum;
                    }
                }
            }
        }
    }
}
