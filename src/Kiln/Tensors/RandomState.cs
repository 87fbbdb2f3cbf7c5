namespace Kiln;

/// <summary>
/// The process-wide random stream: a seed (the Philox key) and the next unused counter. Each random
/// op reserves a run of counters atomically and derives element i from counter start + i / k, so
/// what it draws depends only on the seed and on how many counters earlier ops used, never on
/// threads or chunking.
/// </summary>
internal static class RandomState
{
    /// <summary>The seed before any <see cref="Engine.ManualSeed"/> call (PyTorch's default), so runs repeat by default.</summary>
    internal const ulong DefaultSeed = 67280421310721;

    private static ulong _seed = DefaultSeed;
    private static long _offset;

    /// <summary>Sets the seed and restarts the stream at counter 0.</summary>
    internal static void Seed(ulong seed)
    {
        Volatile.Write(ref _seed, seed);
        Interlocked.Exchange(ref _offset, 0);
    }

    /// <summary>The seed and the next unused counter.</summary>
    internal static RngState Get() => new(Volatile.Read(ref _seed), (ulong)Interlocked.Read(ref _offset));

    /// <summary>Puts the stream back where <see cref="Get"/> found it.</summary>
    internal static void Set(RngState state)
    {
        Volatile.Write(ref _seed, state.Seed);
        Interlocked.Exchange(ref _offset, unchecked((long)state.Counter));
    }

    /// <summary>Reserves <paramref name="counters"/> counters; returns the key and the first of them.</summary>
    internal static (ulong Key, ulong Counter) Reserve(ulong counters)
    {
        ulong end = (ulong)Interlocked.Add(ref _offset, unchecked((long)counters));
        return (Volatile.Read(ref _seed), end - counters);
    }
}
