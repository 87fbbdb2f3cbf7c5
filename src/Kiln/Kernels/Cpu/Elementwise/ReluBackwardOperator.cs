using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// destination[i] = output[i] &gt; 0 ? grad[i] : 0: ReLU's gradient from its output in one pass (a
/// select, so a NaN or infinite gradient where the output is not positive still gives 0, as PyTorch's
/// threshold_backward). The span-scalar forms serve broadcast operands.
/// </summary>
internal readonly struct ReluBackwardOperator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
{
    public static void Invoke(ReadOnlySpan<T> grad, ReadOnlySpan<T> output, Span<T> destination)
    {
        if (grad.Length != destination.Length || output.Length != destination.Length)
            throw new ArgumentException($"operand lengths differ: {grad.Length}, {output.Length} -> {destination.Length}");
        ref T g = ref MemoryMarshal.GetReference(grad);
        ref T y = ref MemoryMarshal.GetReference(output);
        ref T d = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)destination.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            nuint width = (nuint)Vector512<T>.Count;
            for (; i + width <= n; i += width)
            {
                var positive = Vector512.GreaterThan(Vector512.LoadUnsafe(ref y, i), Vector512<T>.Zero);
                (Vector512.LoadUnsafe(ref g, i) & positive).StoreUnsafe(ref d, i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            nuint width = (nuint)Vector256<T>.Count;
            for (; i + width <= n; i += width)
            {
                var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref y, i), Vector256<T>.Zero);
                (Vector256.LoadUnsafe(ref g, i) & positive).StoreUnsafe(ref d, i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = Scalar(Unsafe.Add(ref g, i), Unsafe.Add(ref y, i));
    }

    public static void Invoke(ReadOnlySpan<T> grad, T output, Span<T> destination)
    {
        if (output > T.Zero) grad.CopyTo(destination);
        else destination.Clear();
    }

    public static void Invoke(T grad, ReadOnlySpan<T> output, Span<T> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = Scalar(grad, output[i]);
    }

    /// <summary>The scalar twin: the gradient where the output is positive, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Scalar(T grad, T output) => output > T.Zero ? grad : T.Zero;
}
