using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Unfolds image patches into the columns of a matrix (im2col), so a convolution becomes one GEMM:
/// row (c·kH + ky)·kW + kx holds, for every output position of a band of output rows, the input
/// value that kernel tap (c, ky, kx) multiplies (zero where it falls in the padding).
/// </summary>
internal static unsafe class Im2ColKernel
{
    /// <summary>
    /// Unfolds <paramref name="channels"/> contiguous H×W planes starting at <paramref name="input"/>
    /// for the output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) into
    /// <paramref name="columns"/>, a (channels·kH·kW) × ((rowEnd − rowStart)·OW) row-major matrix.
    /// </summary>
    internal static void Unfold<T>(in ConvGeometry g, T* input, int channels, int rowStart, int rowEnd, T* columns)
        where T : unmanaged, INumberBase<T>
    {
        int ow = g.OutWidth, width = g.Width, height = g.Height, sw = g.StrideWidth;
        int bandColumns = (rowEnd - rowStart) * ow;
        T* dst = columns;
        for (int c = 0; c < channels; c++)
        {
            T* plane = input + (nint)c * g.InArea;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                int rowOffset = ky * g.DilationHeight - g.PadTop;
                for (int kx = 0; kx < g.KernelWidth; kx++, dst += bandColumns)
                {
                    var (start, end) = g.ValidColumns(kx);
                    int colOffset = kx * g.DilationWidth - g.PadLeft;
                    T* row = dst;
                    for (int oy = rowStart; oy < rowEnd; oy++, row += ow)
                    {
                        int iy = oy * g.StrideHeight + rowOffset;
                        var to = new Span<T>(row, ow);
                        if ((uint)iy >= (uint)height)
                        {
                            to.Clear();
                            continue;
                        }
                        T* from = plane + (nint)iy * width + colOffset;
                        for (int ox = 0; ox < start; ox++) row[ox] = T.Zero;
                        for (int ox = end; ox < ow; ox++) row[ox] = T.Zero;
                        if (sw == 1)
                        {
                            CopyRow(row + start, from + start, end - start);
                        }
                        else
                        {
                            for (int ox = start; ox < end; ox++) row[ox] = from[(nint)ox * sw];
                        }
                    }
                }
            }
        }
    }

    /// <summary>to[i] = from[i] for a short run: inline vectors, since a library call per run of a dozen elements dominates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<T>(T* to, T* from, int length) where T : unmanaged
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(from + i), to + i);
        for (; i < length; i++) to[i] = from[i];
    }
}
