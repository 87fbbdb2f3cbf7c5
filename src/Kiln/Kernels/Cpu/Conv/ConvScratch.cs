using System.Runtime.InteropServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// One reusable native buffer per thread for the unfolded (im2col) matrices and pooling rows, so a
/// convolution allocates nothing at steady state. The buffer only grows; the convolution kernels
/// bound what they ask for by tiling (<see cref="ConvKernel"/>). A pointer stays valid until the next
/// <see cref="Get{T}"/> on the same thread, so a kernel takes one buffer per call and never nests.
/// </summary>
internal static unsafe class ConvScratch
{
    [ThreadStatic] private static Buffer? _buffer;
    [ThreadStatic] private static Buffer? _partials;
    [ThreadStatic] private static Buffer?[]? _slots;

    internal static T* Get<T>(long count) where T : unmanaged => Grow<T>(ref _buffer, count);

    /// <summary>
    /// A second buffer of the calling thread, for results that other threads fill while each of them
    /// (the caller included) uses its own <see cref="Get{T}"/> buffer: the weight gradient's partial sums.
    /// </summary>
    internal static T* Partials<T>(long count) where T : unmanaged => Grow<T>(ref _partials, count);

    /// <summary>
    /// One of the calling thread's named buffers for the implicit-GEMM convolution, which holds several
    /// at once (padded input, offsets, packed operands); slots never alias each other or <see cref="Get{T}"/>.
    /// </summary>
    internal static T* Slot<T>(ConvScratchSlot slot, long count) where T : unmanaged
    {
        var slots = _slots ??= new Buffer?[(int)ConvScratchSlot.Count];
        return Grow<T>(ref slots[(int)slot], count);
    }

    /// <summary>Buffers above this size are freed after the convolution that needed them (<see cref="ReleaseLarge"/>).</summary>
    internal const long LargeBytes = 16L << 20;

    /// <summary>
    /// Frees the calling thread's buffers larger than <see cref="LargeBytes"/>: they serve one-off large
    /// convolutions (evaluation on batches of 1000 needs a 41 MB padded input for the CNN's second layer),
    /// which would otherwise hold that memory for the life of the thread. A training step's buffers stay
    /// far below it, so steady state still allocates nothing.
    /// </summary>
    internal static void ReleaseLarge()
    {
        Release(ref _buffer);
        Release(ref _partials);
        if (_slots is not { } slots) return;
        for (int i = 0; i < slots.Length; i++) Release(ref slots[i]);
    }

    private static void Release(ref Buffer? slot)
    {
        if (slot is not { } buffer || buffer.Bytes <= LargeBytes) return;
        buffer.Free();
        slot = null;
    }

    /// <summary>The bytes of the calling thread's buffers (for tests).</summary>
    internal static long HeldBytes()
    {
        long bytes = (_buffer?.Bytes ?? 0) + (_partials?.Bytes ?? 0);
        if (_slots is { } slots) foreach (var b in slots) bytes += b?.Bytes ?? 0;
        return bytes;
    }

    private static T* Grow<T>(ref Buffer? slot, long count) where T : unmanaged
    {
        long bytes = Math.Max(count, 1) * sizeof(T);
        var buffer = slot;
        if (buffer is null || buffer.Bytes < bytes)
        {
            buffer?.Free();
            // Grow by half again so a sequence of slightly larger requests does not reallocate each time.
            long size = buffer is null ? bytes : Math.Max(bytes, buffer.Bytes + buffer.Bytes / 2);
            slot = buffer = new Buffer(size);
        }
        return (T*)buffer.Pointer;
    }

    private sealed class Buffer
    {
        internal Buffer(long bytes)
        {
            Pointer = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            if (Pointer == 0) throw new OutOfMemoryException($"Kiln could not allocate {bytes} bytes of convolution scratch memory");
            Bytes = bytes;
        }

        internal nint Pointer { get; private set; }
        internal long Bytes { get; }

        internal void Free()
        {
            var p = Pointer;
            Pointer = 0;
            if (p != 0) NativeMemory.AlignedFree((void*)p);
            GC.SuppressFinalize(this);
        }

        // The buffer of a finished thread goes back when its last reference is collected.
        ~Buffer() => Free();
    }
}

/// <summary>The named scratch buffers of <see cref="ConvScratch.Slot{T}"/>.</summary>
internal enum ConvScratchSlot
{
    PaddedInput,
    TapOffsets,
    PositionOffsets,
    PackedWeights,
    WeightsSourceOrder,
    FlippedWeights,
    PackedGrad,
    Accumulator,
    ChunkOffsets,
    ChunkAccumulator,
    TileStepRanges,
    TileTaps,
    RowRanges,
    Count,
}
