using System.Runtime.InteropServices;

namespace Kiln;

/// <summary>
/// Pooled, 64-byte aligned native buffers. Sizes are rounded up to size classes (four per power of
/// two, so at most 25% is wasted) and freed buffers are kept per class for reuse, up to a cap on
/// cached bytes, because training loops allocate the same sizes every step.
/// </summary>
internal static unsafe class MemoryPool
{
    internal const int Alignment = 64;
    private const int ClassCount = 4 * 48;

    private static readonly Stack<nint>[] Free = CreateBuckets();
    private static long _bytesInUse;
    private static long _bytesCached;
    private static long _peakBytesInUse;
    private static long _allocations;

    internal static long CacheLimitBytes { get; set; } = KilnEnvironment.PoolCacheBytes;

    private static Stack<nint>[] CreateBuckets()
    {
        var buckets = new Stack<nint>[ClassCount];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = new Stack<nint>();
        return buckets;
    }

    /// <summary>The size class of a request and its capacity in bytes.</summary>
    internal static (int Class, long Capacity) SizeClass(long bytes)
    {
        if (bytes <= Alignment) return (0, Alignment);
        int log = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1)); // floor(log2(bytes-1))
        long pow = 1L << log;
        long quarter = pow / 4;
        long capacity = pow;
        int sub = 0;
        while (capacity < bytes) { capacity += quarter; sub++; }
        // classes below 64 bytes collapse into class 0
        int cls = Math.Max(0, (log - 6) * 4 + sub);
        if (capacity < Alignment) capacity = Alignment;
        return (cls, (capacity + Alignment - 1) / Alignment * Alignment);
    }

    internal static nint Rent(long bytes, out long capacity, out int sizeClass)
    {
        (sizeClass, capacity) = SizeClass(bytes);
        nint ptr = 0;
        if (sizeClass < ClassCount)
        {
            var bucket = Free[sizeClass];
            lock (bucket)
            {
                if (bucket.Count > 0) ptr = bucket.Pop();
            }
            if (ptr != 0) Interlocked.Add(ref _bytesCached, -capacity);
        }
        if (ptr == 0)
        {
            ptr = (nint)NativeMemory.AlignedAlloc((nuint)capacity, Alignment);
            if (ptr == 0) throw new OutOfMemoryException($"Kiln could not allocate {capacity} bytes of tensor memory");
            Interlocked.Increment(ref _allocations);
        }
        long inUse = Interlocked.Add(ref _bytesInUse, capacity);
        long peak;
        while (inUse > (peak = Interlocked.Read(ref _peakBytesInUse)))
            if (Interlocked.CompareExchange(ref _peakBytesInUse, inUse, peak) == peak) break;
        return ptr;
    }

    internal static void Return(nint ptr, long capacity, int sizeClass)
    {
        Interlocked.Add(ref _bytesInUse, -capacity);
        if (sizeClass < ClassCount && Interlocked.Read(ref _bytesCached) + capacity <= CacheLimitBytes)
        {
            var bucket = Free[sizeClass];
            lock (bucket) bucket.Push(ptr);
            Interlocked.Add(ref _bytesCached, capacity);
            return;
        }
        NativeMemory.AlignedFree((void*)ptr);
    }

    /// <summary>Frees every cached buffer.</summary>
    internal static void Trim()
    {
        foreach (var bucket in Free)
        {
            lock (bucket)
            {
                while (bucket.Count > 0)
                {
                    NativeMemory.AlignedFree((void*)bucket.Pop());
                }
            }
        }
        Interlocked.Exchange(ref _bytesCached, 0);
    }

    internal static MemoryStats Stats() => new(
        Interlocked.Read(ref _bytesInUse),
        Interlocked.Read(ref _bytesCached),
        Interlocked.Read(ref _peakBytesInUse),
        Interlocked.Read(ref _allocations));

    internal static void ResetPeak() => Interlocked.Exchange(ref _peakBytesInUse, Interlocked.Read(ref _bytesInUse));
}
