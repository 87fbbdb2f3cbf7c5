using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// destination[i] = condition[i] != 0 ? x[i] : y[i]. Values are moved as raw bits, so
/// <typeparamref name="T"/> is byte, uint or ulong whatever the tensor's dtype (NaN payloads and
/// -0.0 pass through unchanged). The condition bytes are widened to full-lane masks.
/// </summary>
internal readonly struct WhereOperator<T> : ITernarySpanOperator<byte, T, T> where T : unmanaged
{
    public static void Invoke(ReadOnlySpan<byte> condition, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
    {
        if (condition.Length != destination.Length || x.Length != destination.Length || y.Length != destination.Length)
            throw new ArgumentException($"operand lengths differ: {condition.Length}, {x.Length}, {y.Length} -> {destination.Length}");
        ref byte c = ref MemoryMarshal.GetReference(condition);
        ref T a = ref MemoryMarshal.GetReference(x);
        ref T b = ref MemoryMarshal.GetReference(y);
        ref T d = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)destination.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            nuint width = (nuint)Vector512<T>.Count;
            for (; i + width <= n; i += width)
                Vector512.ConditionalSelect(Mask512(ref Unsafe.Add(ref c, i)), Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i)).StoreUnsafe(ref d, i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            nuint width = (nuint)Vector256<T>.Count;
            for (; i + width <= n; i += width)
                Vector256.ConditionalSelect(Mask256(ref Unsafe.Add(ref c, i)), Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i)).StoreUnsafe(ref d, i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = Unsafe.Add(ref c, i) != 0 ? Unsafe.Add(ref a, i) : Unsafe.Add(ref b, i);
    }

    // All bits set in lane k where condition byte k is non-zero; reads Vector256<T>.Count bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Mask256(ref byte condition)
    {
        if (Unsafe.SizeOf<T>() == 1)
            return (~Vector256.Equals(Vector256.LoadUnsafe(ref condition), Vector256<byte>.Zero)).As<byte, T>();
        if (Unsafe.SizeOf<T>() == 4)
        {
            var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref condition)).AsByte();
            var lanes = Vector256.WidenLower(Vector128.WidenLower(bytes).ToVector256Unsafe());
            return (~Vector256.Equals(lanes, Vector256<uint>.Zero)).As<uint, T>();
        }
        if (Unsafe.SizeOf<T>() == 8)
        {
            var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref condition)).AsByte();
            var lanes = Vector256.WidenLower(Vector128.WidenLower(Vector128.WidenLower(bytes)).ToVector256Unsafe());
            return (~Vector256.Equals(lanes, Vector256<ulong>.Zero)).As<ulong, T>();
        }
        throw new NotSupportedException($"Where on {Unsafe.SizeOf<T>()}-byte elements");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Mask512(ref byte condition)
    {
        if (Unsafe.SizeOf<T>() == 1)
            return (~Vector512.Equals(Vector512.LoadUnsafe(ref condition), Vector512<byte>.Zero)).As<byte, T>();
        if (Unsafe.SizeOf<T>() == 4)
        {
            var shorts = Vector256.WidenLower(Vector128.LoadUnsafe(ref condition).ToVector256Unsafe());
            var lanes = Vector512.WidenLower(shorts.ToVector512Unsafe());
            return (~Vector512.Equals(lanes, Vector512<uint>.Zero)).As<uint, T>();
        }
        if (Unsafe.SizeOf<T>() == 8)
        {
            var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref condition)).AsByte();
            var ints = Vector256.WidenLower(Vector128.WidenLower(bytes).ToVector256Unsafe());
            var lanes = Vector512.WidenLower(ints.ToVector512Unsafe());
            return (~Vector512.Equals(lanes, Vector512<ulong>.Zero)).As<ulong, T>();
        }
        throw new NotSupportedException($"Where on {Unsafe.SizeOf<T>()}-byte elements");
    }
}
