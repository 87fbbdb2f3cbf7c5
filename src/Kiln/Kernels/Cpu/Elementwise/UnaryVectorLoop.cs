using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The one driver for <see cref="IUnaryVectorOperator{T}"/>s: the widest accelerated vector width
/// over the body, the scalar twin over the tail (and everywhere when no width is accelerated).
/// </summary>
internal static class UnaryVectorLoop
{
    /// <summary>
    /// destination[i] = op(x[i]). The spans must have one length and either be the same memory
    /// (in place) or not overlap.
    /// </summary>
    internal static void Run<T, TOp>(ReadOnlySpan<T> x, Span<T> destination, TOp op)
        where T : unmanaged
        where TOp : struct, IUnaryVectorOperator<T>
    {
        if (x.Length != destination.Length)
            throw new ArgumentException($"source has {x.Length} elements but destination has {destination.Length}");
        ref T src = ref MemoryMarshal.GetReference(x);
        ref T dst = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            nuint width = (nuint)Vector512<T>.Count;
            for (; i + width <= n; i += width)
                op.Invoke(Vector512.LoadUnsafe(ref src, i)).StoreUnsafe(ref dst, i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            nuint width = (nuint)Vector256<T>.Count;
            for (; i + width <= n; i += width)
                op.Invoke(Vector256.LoadUnsafe(ref src, i)).StoreUnsafe(ref dst, i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = op.Invoke(Unsafe.Add(ref src, i));
    }
}
