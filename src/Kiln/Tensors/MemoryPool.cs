using System.Runtime.InteropServices;

namespace Kiln;

/// <summary>
/// Pooled, 64-byte aligned native buffers. Sizes are rounded up to size classes (four per power of
/// two, so at most 25% is wasted) and freed buffers are kept per class for reuse, up to a cap on
/// cached bytes, because training loops allocate the same sizes every step. Small buffers are kept
/// first in a cache of the thread that frees them (when that thread also allocates), which it takes
/// them back from without a lock: an eager op on small tensors frees and allocates the same classes
/// over and over. A large request whose class has nothing cached takes a cached buffer of up to
/// <see cref="SpareClasses"/> classes larger (8× the size) before asking the system: a forward pass
/// without grad frees each activation as the next is made, and the next is often a different size
/// (pooling quarters it), so without this every freed activation would sit in the cache while the
/// process asks for new memory. A large request that finds nothing it may take first frees the cached
/// large buffers smaller than itself, then asks the system: those were left by a phase whose sizes are
/// over (a training step's activations when evaluation starts on batches of 1000), and kept, they would
/// add to the new phase's memory instead of being reused. A loop that repeats its sizes is served from
/// the cache after its first pass, so in steady state nothing is freed.
/// </summary>
internal static unsafe class MemoryPool
{
    internal const int Alignment = 64;
    private const int ClassCount = 4 * 48;

    /// <summary>Classes below 16 KiB are cached per thread, up to <see cref="ThreadDepth"/> buffers each.</summary>
    private const int ThreadClasses = 32;
    private const int ThreadDepth = 4;

    /// <summary>Requests of this class (1 MiB) and above may take a larger cached buffer.</summary>
    private const int LargeClass = (20 - 6) * 4;

    /// <summary>How many classes larger a cached buffer may be (four per power of two: 8×).</summary>
    private const int SpareClasses = 12;

    private static readonly Stack<nint>[] Free = CreateBuckets();
    private static long _bytesInUse;
    private static long _bytesCached;
    private static long _peakBytesInUse;
    private static long _allocations;

    [ThreadStatic] private static ThreadCache? _local;
    private static readonly List<ThreadCache> ThreadCaches = new();

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
        if (sizeClass < ThreadClasses) ptr = (_local ?? CreateThreadCache()).Take(sizeClass);
        if (ptr == 0 && sizeClass < ClassCount)
        {
            var bucket = Free[sizeClass];
            lock (bucket)
            {
                if (bucket.Count > 0) ptr = bucket.Pop();
            }
        }
        if (ptr == 0 && sizeClass >= LargeClass && sizeClass < ClassCount) ptr = TakeLarger(ref sizeClass, ref capacity);
        if (ptr != 0) Interlocked.Add(ref _bytesCached, -capacity);
        if (ptr == 0)
        {
            if (sizeClass >= LargeClass) ReleaseSmaller(Math.Min(sizeClass, ClassCount));
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

    /// <summary>The smallest cached buffer of the classes just above <paramref name="sizeClass"/>, or 0; updates the class and capacity to it.</summary>
    private static nint TakeLarger(ref int sizeClass, ref long capacity)
    {
        int last = Math.Min(ClassCount - 1, sizeClass + SpareClasses);
        for (int c = sizeClass + 1; c <= last; c++)
        {
            var bucket = Free[c];
            if (bucket.Count == 0) continue;
            lock (bucket)
            {
                if (bucket.Count == 0) continue;
                sizeClass = c;
                capacity = ClassCapacity(c);
                return bucket.Pop();
            }
        }
        return 0;
    }

    /// <summary>Frees the cached buffers of the large classes below <paramref name="sizeClass"/>.</summary>
    private static void ReleaseSmaller(int sizeClass)
    {
        for (int c = LargeClass; c < sizeClass; c++)
        {
            var bucket = Free[c];
            if (bucket.Count == 0) continue;
            long capacity = ClassCapacity(c);
            lock (bucket)
            {
                while (bucket.Count > 0)
                {
                    NativeMemory.AlignedFree((void*)bucket.Pop());
                    Interlocked.Add(ref _bytesCached, -capacity);
                }
            }
        }
    }

    /// <summary>The capacity of size class <paramref name="sizeClass"/> (the inverse of <see cref="SizeClass"/>).</summary>
    internal static long ClassCapacity(int sizeClass)
    {
        if (sizeClass == 0) return Alignment;
        long pow = 1L << (sizeClass / 4 + 6);
        long capacity = pow + sizeClass % 4 * (pow / 4);
        return (capacity + Alignment - 1) / Alignment * Alignment;
    }

    internal static void Return(nint ptr, long capacity, int sizeClass)
    {
        Interlocked.Add(ref _bytesInUse, -capacity);
        if (sizeClass < ClassCount && Interlocked.Read(ref _bytesCached) + capacity <= CacheLimitBytes)
        {
            if (sizeClass >= ThreadClasses || _local?.Put(ptr, sizeClass) != true)
            {
                var bucket = Free[sizeClass];
                lock (bucket) bucket.Push(ptr);
            }
            Interlocked.Add(ref _bytesCached, capacity);
            return;
        }
        NativeMemory.AlignedFree((void*)ptr);
    }

    private static ThreadCache CreateThreadCache()
    {
        var cache = new ThreadCache(Thread.CurrentThread);
        lock (ThreadCaches)
        {
            // The buffers of threads that ended move to the shared buckets (still cached), so threads
            // that come and go (data loader workers) leave nothing stranded.
            for (int i = ThreadCaches.Count - 1; i >= 0; i--)
            {
                if (ThreadCaches[i].Owner.IsAlive) continue;
                ThreadCaches[i].Drain(free: false);
                ThreadCaches.RemoveAt(i);
            }
            ThreadCaches.Add(cache);
        }
        return _local = cache;
    }

    /// <summary>
    /// One thread's small buffers. Only its thread takes and puts, but <see cref="Trim"/> empties every
    /// thread's cache, so each access holds <see cref="_busy"/> (a compare-exchange, cheaper than a lock;
    /// the owner skips its cache for the one call that finds it busy).
    /// </summary>
    private sealed class ThreadCache(Thread owner)
    {
        internal Thread Owner { get; } = owner;
        private readonly nint[] _blocks = new nint[ThreadClasses * ThreadDepth];
        private readonly int[] _counts = new int[ThreadClasses];
        private int _busy;

        internal nint Take(int sizeClass)
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return 0;
            nint ptr = 0;
            int n = _counts[sizeClass];
            if (n > 0)
            {
                _counts[sizeClass] = --n;
                ptr = _blocks[sizeClass * ThreadDepth + n];
            }
            Volatile.Write(ref _busy, 0);
            return ptr;
        }

        internal bool Put(nint ptr, int sizeClass)
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
            int n = _counts[sizeClass];
            bool kept = n < ThreadDepth;
            if (kept)
            {
                _blocks[sizeClass * ThreadDepth + n] = ptr;
                _counts[sizeClass] = n + 1;
            }
            Volatile.Write(ref _busy, 0);
            return kept;
        }

        /// <summary>Frees every buffer (<see cref="Trim"/>), or moves them to the shared buckets (its thread ended); on any thread.</summary>
        internal void Drain(bool free)
        {
            var spin = new SpinWait();
            while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) spin.SpinOnce();
            for (int c = 0; c < ThreadClasses; c++)
            {
                for (int i = 0; i < _counts[c]; i++)
                {
                    nint ptr = _blocks[c * ThreadDepth + i];
                    if (free)
                    {
                        NativeMemory.AlignedFree((void*)ptr);
                    }
                    else
                    {
                        var bucket = Free[c];
                        lock (bucket) bucket.Push(ptr);
                    }
                }
                _counts[c] = 0;
            }
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Frees every cached buffer.</summary>
    internal static void Trim()
    {
        lock (ThreadCaches)
        {
            foreach (var cache in ThreadCaches) cache.Drain(free: true);
        }
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
