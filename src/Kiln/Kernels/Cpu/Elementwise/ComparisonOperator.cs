using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Compares elementwise into bool bytes (1 where <typeparamref name="TPredicate"/> holds, else 0).
/// Each vector of comparison lanes is turned into its bit mask and the mask, 8 bits at a time, into
/// 8 bytes through a 256-entry table; a broadcast operand is spread over a stack block first.
/// </summary>
internal readonly struct ComparisonOperator<T, TPredicate> : IBinarySpanOperator<T, byte>
    where T : unmanaged, INumber<T>
    where TPredicate : IComparisonPredicate
{
    private const int BlockLength = 256;

    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<byte> destination)
    {
        if (x.Length != y.Length || x.Length != destination.Length)
            throw new ArgumentException($"operand lengths differ: {x.Length}, {y.Length} -> {destination.Length}");
        ref T a = ref MemoryMarshal.GetReference(x);
        ref T b = ref MemoryMarshal.GetReference(y);
        ref byte d = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            nuint width = (nuint)Vector512<T>.Count;
            for (; i + width <= n; i += width)
            {
                var mask = TPredicate.Compare(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref b, i));
                BoolBytes.Store(mask.ExtractMostSignificantBits(), (int)width, ref Unsafe.Add(ref d, i));
            }
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            nuint width = (nuint)Vector256<T>.Count;
            for (; i + width <= n; i += width)
            {
                var mask = TPredicate.Compare(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i));
                BoolBytes.Store(mask.ExtractMostSignificantBits(), (int)width, ref Unsafe.Add(ref d, i));
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = TPredicate.Compare(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i)) ? (byte)1 : (byte)0;
    }

    public static void Invoke(ReadOnlySpan<T> x, T y, Span<byte> destination)
    {
        if (x.Length != destination.Length)
            throw new ArgumentException($"operand lengths differ: {x.Length} -> {destination.Length}");
        Span<T> block = stackalloc T[BlockLength];
        block.Fill(y);
        for (int start = 0; start < x.Length; start += BlockLength)
        {
            int len = Math.Min(BlockLength, x.Length - start);
            Invoke(x.Slice(start, len), block[..len], destination.Slice(start, len));
        }
    }

    public static void Invoke(T x, ReadOnlySpan<T> y, Span<byte> destination)
    {
        if (y.Length != destination.Length)
            throw new ArgumentException($"operand lengths differ: {y.Length} -> {destination.Length}");
        Span<T> block = stackalloc T[BlockLength];
        block.Fill(x);
        for (int start = 0; start < y.Length; start += BlockLength)
        {
            int len = Math.Min(BlockLength, y.Length - start);
            Invoke(block[..len], y.Slice(start, len), destination.Slice(start, len));
        }
    }
}
