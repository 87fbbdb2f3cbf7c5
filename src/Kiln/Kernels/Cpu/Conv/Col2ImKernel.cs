using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The adjoint of <see cref="Im2ColKernel"/> (col2im): adds each entry of an unfolded matrix back onto
/// the input position it was read from. Padding positions are dropped. This turns the GEMM of the
/// transposed weights with the output gradient into the input gradient.
/// </summary>
internal static unsafe class Col2ImKernel
{
    /// <summary>
    /// Adds <paramref name="columns"/> (laid out as <see cref="Im2ColKernel.Unfold{T}"/> writes it, for the
    /// output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>)) into the
    /// <paramref name="channels"/> H×W planes at <paramref name="output"/>.
    /// </summary>
    internal static void Fold<T>(in ConvGeometry g, T* columns, int channels, int rowStart, int rowEnd, T* output)
        where T : unmanaged, INumberBase<T>
    {
        int ow = g.OutWidth, width = g.Width, height = g.Height, sw = g.StrideWidth;
        int bandColumns = (rowEnd - rowStart) * ow;
        T* src = columns;
        for (int c = 0; c < channels; c++)
        {
            T* plane = output + (nint)c * g.InArea;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                int rowOffset = ky * g.DilationHeight - g.PadTop;
                for (int kx = 0; kx < g.KernelWidth; kx++, src += bandColumns)
                {
                    var (start, end) = g.ValidColumns(kx);
                    if (start >= end) continue;
                    int colOffset = kx * g.DilationWidth - g.PadLeft;
                    T* row = src;
                    for (int oy = rowStart; oy < rowEnd; oy++, row += ow)
                    {
                        int iy = oy * g.StrideHeight + rowOffset;
                        if ((uint)iy >= (uint)height) continue;
                        T* to = plane + (nint)iy * width + colOffset;
                        if (sw == 1)
                        {
                            AddRow(to + start, row + start, end - start);
                        }
                        else
                        {
                            for (int ox = start; ox < end; ox++) to[(nint)ox * sw] += row[ox];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// to[i] += from[i] for a short run (one output row of a small image): inline vectors and a scalar
    /// tail, since a library call per run of a dozen elements costs more than the additions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow<T>(T* to, T* from, int length) where T : unmanaged, INumberBase<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(to + i) + Vector256.Load(from + i), to + i);
        for (; i < length; i++) to[i] += from[i];
    }
}
