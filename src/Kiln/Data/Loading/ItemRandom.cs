using Kiln.Kernels.Cpu;

namespace Kiln.Data;

/// <summary>
/// A random stream for data loading: Philox4x32-10 under a 64-bit key, its counter's two high words fixed
/// to a stream identity (the item's index and the epoch) and its two low words counting blocks. Being
/// counter-based, the stream of an item depends only on (seed, epoch, index), never on which thread or
/// in which order items are prepared, which keeps random transforms identical whatever the worker count.
/// </summary>
internal sealed class ItemRandom
{
    /// <summary>The index word that marks the shuffle stream of an epoch (item indices are below 2^31).</summary>
    internal const uint ShuffleStream = uint.MaxValue;

    /// <summary>The epoch word of the stream that splits a dataset (loaders' epochs stay far below it).</summary>
    internal const uint SplitEpoch = uint.MaxValue;

    [ThreadStatic] private static ItemRandom? _current;

    private readonly uint _k0, _k1, _c2, _c3;
    private ulong _block;
    private uint _w0, _w1, _w2, _w3;
    private int _used = 4;

    internal ItemRandom(ulong key, uint index, uint epoch)
    {
        _k0 = (uint)key;
        _k1 = (uint)(key >> 32);
        _c2 = index;
        _c3 = epoch;
    }

    /// <summary>
    /// The stream set by the data loader for the item this thread is preparing; outside a loader, a fresh
    /// stream keyed by a draw from Kiln's random stream (so <see cref="Engine.ManualSeed"/> repeats it).
    /// </summary>
    internal static ItemRandom Current => _current ?? new ItemRandom(DrawSeed(), 0, 0);

    /// <summary>A 64-bit seed drawn from Kiln's process-wide random stream (one counter of it).</summary>
    internal static ulong DrawSeed()
    {
        var (key, counter) = RandomState.Reserve(1);
        var (x0, x1, _, _) = PhiloxRandom.Block((uint)counter, (uint)(counter >> 32), 0, 0, (uint)key, (uint)(key >> 32));
        return ((ulong)x1 << 32) | x0;
    }

    /// <summary>Makes <paramref name="random"/> this thread's current stream until the returned scope is disposed.</summary>
    internal static Scope Enter(ItemRandom random)
    {
        var previous = _current;
        _current = random;
        return new Scope(previous);
    }

    internal readonly struct Scope(ItemRandom? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }

    internal uint NextUInt32()
    {
        if (_used == 4)
        {
            (_w0, _w1, _w2, _w3) = PhiloxRandom.Block((uint)_block, (uint)(_block >> 32), _c2, _c3, _k0, _k1);
            _block++;
            _used = 0;
        }
        return _used++ switch { 0 => _w0, 1 => _w1, 2 => _w2, _ => _w3 };
    }

    internal ulong NextUInt64() => ((ulong)NextUInt32() << 32) | NextUInt32();

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    internal double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMax"/>), without modulo bias (Lemire's multiply-and-reject).</summary>
    internal int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        uint range = (uint)exclusiveMax;
        ulong product = (ulong)NextUInt32() * range;
        if ((uint)product < range)
        {
            uint threshold = (0u - range) % range;
            while ((uint)product < threshold) product = (ulong)NextUInt32() * range;
        }
        return (int)(product >> 32);
    }

    /// <summary>A uniformly random permutation of 0..n-1 (Fisher-Yates).</summary>
    internal int[] Permutation(int n)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
