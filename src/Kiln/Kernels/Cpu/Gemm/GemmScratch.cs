using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Per-thread packing buffers, 64-byte aligned, kept for the thread's lifetime so a GEMM call
/// allocates nothing once its thread has run one of that size. They live on the pinned object heap,
/// so they go away with their thread without a finalizer.
/// </summary>
internal static unsafe class GemmScratch<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? t_packedA;
    [ThreadStatic] private static T[]? t_packedB;
    [ThreadStatic] private static T[]? t_packedAll;

    /// <summary>This thread's buffer for a packed A block.</summary>
    internal static T* PackedA(int elements) => Get(ref t_packedA, elements);

    /// <summary>This thread's buffer for a packed B block.</summary>
    internal static T* PackedB(int elements) => Get(ref t_packedB, elements);

    /// <summary>This thread's buffer for all of A packed at once, which the pool's threads then share.</summary>
    internal static T* PackedAll(long elements) => Get(ref t_packedAll, checked((int)elements));

    private static T* Get(ref T[]? buffer, int elements)
    {
        int slack = 64 / sizeof(T);
        if (buffer is null || buffer.Length < elements + slack)
            buffer = GC.AllocateUninitializedArray<T>(elements + slack, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (T*)((start + 63) & ~(nint)63);
    }
}
