using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
/// SC 2011), a counter-based generator: block n under key k is a pure function of (n, k). The
/// 64-bit counter fills words 0 and 1 of the 128-bit Philox counter (low word first), words 2 and 3
/// are zero, and the key is the 64-bit seed (low word first).
/// <para>
/// Every fill takes the destination as elements [first, first + length) of one op's stream that starts
/// at <c>counter</c>. The stream is cut into groups of <see cref="GroupElements"/> elements; group g is
/// made from the words of the GroupElements / PerCounter counters starting at
/// <c>counter + g · GroupElements / PerCounter</c> (each fill says which words make which element), and
/// is always computed in full, so an element's bits never depend on how the fill is split into calls
/// or threads.
/// </para>
/// </summary>
internal static class PhiloxRandom
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private const int Rounds = 10;

    /// <summary>Elements computed together; every fill's values are a function of the group alone.</summary>
    internal const int GroupElements = 256;

    /// <summary>Elements per counter: uniform and normal float32 use one 32-bit word each.</summary>
    internal const int FloatPerCounter = 4;

    /// <summary>Elements per counter: float64 uniforms and normals and int64 values use two words each.</summary>
    internal const int WidePerCounter = 2;

    /// <summary>How many counters a stream of <paramref name="elements"/> values uses.</summary>
    internal static ulong CountersFor(long elements, int perCounter) => (ulong)((elements + perCounter - 1) / perCounter);

    /// <summary>One Philox4x32-10 block: the four output words for counter (c0..c3) under key (k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int r = 0; r < Rounds; r++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>The words of counters counter, counter + 1, ... (four per counter) into <paramref name="words"/>.</summary>
    internal static void FillWords(Span<uint> words, ulong key, ulong counter)
    {
        if (words.Length % 4 != 0) throw new ArgumentException("Philox words come in blocks of four", nameof(words));
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        int blocks = words.Length / 4;
        int b = Avx2.IsSupported ? FillWordsAvx2(words, k0, k1, counter, blocks) : 0;
        for (; b < blocks; b++)
        {
            ulong c = counter + (ulong)b;
            var (x0, x1, x2, x3) = Block((uint)c, (uint)(c >> 32), 0, 0, k0, k1);
            words[4 * b] = x0;
            words[4 * b + 1] = x1;
            words[4 * b + 2] = x2;
            words[4 * b + 3] = x3;
        }
    }

    // Four blocks at once, one per 64-bit lane (vpmuludq gives the full 32x32 -> 64-bit products).
    private static unsafe int FillWordsAvx2(Span<uint> words, uint k0, uint k1, ulong counter, int blocks)
    {
        var low = Vector256.Create(0xFFFF_FFFFUL);
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        int b = 0;
        fixed (uint* dst = words)
        {
            for (; b + 4 <= blocks; b += 4)
            {
                ulong c = counter + (ulong)b;
                var ctr = Vector256.Create(c, c + 1, c + 2, c + 3);
                var c0 = ctr & low;
                var c1 = ctr >>> 32;
                var c2 = Vector256<ulong>.Zero;
                var c3 = Vector256<ulong>.Zero;
                uint r0 = k0, r1 = k1;
                for (int r = 0; r < Rounds; r++)
                {
                    var p0 = Avx2.Multiply(c0.AsUInt32(), m0);
                    var p1 = Avx2.Multiply(c2.AsUInt32(), m1);
                    var n0 = (p1 >>> 32) ^ c1 ^ Vector256.Create((ulong)r0);
                    var n2 = (p0 >>> 32) ^ c3 ^ Vector256.Create((ulong)r1);
                    c1 = p1 & low;
                    c3 = p0 & low;
                    c0 = n0;
                    c2 = n2;
                    r0 += W0;
                    r1 += W1;
                }
                // Lane i holds block i's words in the low halves; interleave them into block order.
                var x = c0 | (c1 << 32);
                var y = c2 | (c3 << 32);
                var lo = Avx2.UnpackLow(x, y);
                var hi = Avx2.UnpackHigh(x, y);
                Avx2.Permute2x128(lo, hi, 0x20).AsUInt32().Store(dst + 4 * b);
                Avx2.Permute2x128(lo, hi, 0x31).AsUInt32().Store(dst + 4 * b + 8);
            }
        }
        return b;
    }

    /// <summary>Uniform float32 values in [0, 1): element j is the top 24 bits of the stream's word j, times 2^-24.</summary>
    internal static void FillUniform(Span<float> destination, ulong key, ulong counter, long first)
        => Fill(destination, key, counter, first, new UniformFloat());

    /// <summary>Uniform float64 values in [0, 1): element j is the top 53 bits of words 2j (low) and 2j + 1 (high), times 2^-53.</summary>
    internal static void FillUniform(Span<double> destination, ulong key, ulong counter, long first)
        => Fill(destination, key, counter, first, new UniformDouble());

    /// <summary>Standard normal float32 values: Box-Muller on pairs of 24-bit uniforms (four values per counter).</summary>
    internal static void FillNormal(Span<float> destination, ulong key, ulong counter, long first)
        => Fill(destination, key, counter, first, new NormalFloat());

    /// <summary>Standard normal float64 values: Box-Muller on pairs of 53-bit uniforms (two per counter).</summary>
    internal static void FillNormal(Span<double> destination, ulong key, ulong counter, long first)
        => Fill(destination, key, counter, first, new NormalDouble());

    /// <summary>
    /// Integers low + floor(x · range / 2^64) for 64-bit x made of two words: [low, low + range) with a
    /// bias below range / 2^64. <paramref name="range"/> must be at least 1.
    /// </summary>
    internal static void FillIntegers(Span<long> destination, long low, ulong range, ulong key, ulong counter, long first)
        => Fill(destination, key, counter, first, new Integers(low, range));

    private interface IGroupTransform<T> where T : unmanaged
    {
        int PerCounter { get; }

        /// <summary>Turns one group's words into <see cref="GroupElements"/> values.</summary>
        void Apply(ReadOnlySpan<uint> words, Span<T> destination);
    }

    private static void Fill<T, TTransform>(Span<T> destination, ulong key, ulong counter, long first, TTransform transform)
        where T : unmanaged
        where TTransform : struct, IGroupTransform<T>
    {
        if (destination.IsEmpty) return;
        if (first < 0) throw new ArgumentOutOfRangeException(nameof(first));
        int countersPerGroup = GroupElements / transform.PerCounter;
        Span<uint> words = stackalloc uint[countersPerGroup * 4];
        Span<T> partial = stackalloc T[GroupElements];
        long end = first + destination.Length;
        for (long g = first / GroupElements; g * GroupElements < end; g++)
        {
            long start = g * GroupElements;
            int from = (int)(Math.Max(first, start) - start);
            int to = (int)(Math.Min(end, start + GroupElements) - start);
            FillWords(words, key, counter + (ulong)(g * countersPerGroup));
            if (from == 0 && to == GroupElements)
            {
                transform.Apply(words, destination.Slice((int)(start - first), GroupElements));
            }
            else
            {
                transform.Apply(words, partial);
                partial[from..to].CopyTo(destination.Slice((int)(start + from - first), to - from));
            }
        }
    }

    private const float Float24 = 1f / (1 << 24);
    private const double Double53 = 1.0 / (1L << 53);

    private readonly struct UniformFloat : IGroupTransform<float>
    {
        public int PerCounter => FloatPerCounter;

        public void Apply(ReadOnlySpan<uint> words, Span<float> destination)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(Float24);
                for (; i + 8 <= destination.Length; i += 8)
                {
                    var w = Vector256.Create(words.Slice(i, 8)) >>> 8;
                    (Vector256.ConvertToSingle(w.AsInt32()) * scale).CopyTo(destination.Slice(i, 8));
                }
            }
            for (; i < destination.Length; i++) destination[i] = (words[i] >> 8) * Float24;
        }
    }

    private readonly struct UniformDouble : IGroupTransform<double>
    {
        public int PerCounter => WidePerCounter;

        public void Apply(ReadOnlySpan<uint> words, Span<double> destination)
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = Wide(words, i) * Double53;
        }
    }

    // 53 random bits from words 2i and 2i + 1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Wide(ReadOnlySpan<uint> words, int i) => (((ulong)words[2 * i + 1] << 32) | words[2 * i]) >> 11;

    // Box-Muller on the group's 128 pairs: pair p takes u1 from word p and u2 from word p + 128;
    // output p is r·cos θ and output p + 128 is r·sin θ, with r = sqrt(-2 ln u1), θ = 2π·u2.
    private readonly struct NormalFloat : IGroupTransform<float>
    {
        public int PerCounter => FloatPerCounter;

        public void Apply(ReadOnlySpan<uint> words, Span<float> destination)
        {
            const int Pairs = GroupElements / 2;
            int p = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; p + 8 <= Pairs; p += 8)
                {
                    var (cos, sin) = BoxMuller(Vector256.Create(words.Slice(p, 8)), Vector256.Create(words.Slice(p + Pairs, 8)));
                    cos.CopyTo(destination.Slice(p, 8));
                    sin.CopyTo(destination.Slice(p + Pairs, 8));
                }
            }
            for (; p < Pairs; p++)
                (destination[p], destination[p + Pairs]) = BoxMuller(words[p], words[p + Pairs]);
        }
    }

    private const float Sqrt2 = 1.41421356f, Ln2 = 0.693147181f, HalfPi = 1.57079633f;

    /// <summary>
    /// Two standard normals from two words: u1 = (top 24 bits + 1)·2^-24 in (0, 1] (never log 0),
    /// u2 = top 24 bits·2^-24. ln u1 = e·ln 2 + 2·atanh((m - 1) / (m + 1)) with u1 = m·2^e, m in
    /// [√½, √2] (odd series to s^9, error below 1e-9); θ is split into quarter turns q and a rest x in
    /// [-π/4, π/4], whose sine and cosine are Taylor polynomials (to x^9 and x^10). The vector twin below
    /// performs the same operations in the same order, so both give the same bits.
    /// </summary>
    internal static (float Cos, float Sin) BoxMuller(uint a, uint b)
    {
        float u1 = ((a >> 8) + 1) * Float24;
        float u2 = (b >> 8) * Float24;

        int bits = BitConverter.SingleToInt32Bits(u1);
        int e = (bits >> 23) - 127;
        float m = BitConverter.Int32BitsToSingle((bits & 0x007F_FFFF) | 0x3F80_0000);
        if (m > Sqrt2)
        {
            m *= 0.5f;
            e += 1;
        }
        float s = (m - 1f) / (m + 1f);
        float s2 = s * s;
        float series = (((s2 * (1f / 9) + 1f / 7) * s2 + 1f / 5) * s2 + 1f / 3) * s2 + 1f;
        float log = e * Ln2 + 2f * s * series;
        float r = MathF.Sqrt(-2f * log);

        float t = u2 * 4f;
        int q = (int)(t + 0.5f);
        float x = (t - q) * HalfPi;
        float x2 = x * x;
        float sin = ((((x2 * (1f / 362880) - 1f / 5040) * x2 + 1f / 120) * x2 - 1f / 6) * x2 + 1f) * x;
        float cos = ((((x2 * (-1f / 3628800) + 1f / 40320) * x2 - 1f / 720) * x2 + 1f / 24) * x2 - 0.5f) * x2 + 1f;
        if ((q & 1) != 0) (sin, cos) = (cos, sin);
        sin = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(sin) ^ ((q & 2) << 30));
        cos = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(cos) ^ (((q + 1) & 2) << 30));
        return (r * cos, r * sin);
    }

    /// <summary>Eight <see cref="BoxMuller(uint, uint)"/> at once, bit for bit the same.</summary>
    internal static (Vector256<float> Cos, Vector256<float> Sin) BoxMuller(Vector256<uint> a, Vector256<uint> b)
    {
        var one = Vector256<float>.One;
        var u1 = Vector256.ConvertToSingle(((a >>> 8) + Vector256<uint>.One).AsInt32()) * Float24;
        var u2 = Vector256.ConvertToSingle((b >>> 8).AsInt32()) * Float24;

        var bits = u1.AsInt32();
        var e = (bits >> 23) - Vector256.Create(127);
        var m = ((bits & Vector256.Create(0x007F_FFFF)) | Vector256.Create(0x3F80_0000)).AsSingle();
        var big = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(big, m * 0.5f, m);
        e -= big.AsInt32();
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var series = (((s2 * (1f / 9) + Vector256.Create(1f / 7)) * s2 + Vector256.Create(1f / 5)) * s2 + Vector256.Create(1f / 3)) * s2 + one;
        var log = Vector256.ConvertToSingle(e) * Ln2 + Vector256.Create(2f) * s * series;
        var r = Vector256.Sqrt(Vector256.Create(-2f) * log);

        var t = u2 * 4f;
        var q = Vector256.ConvertToInt32(t + Vector256.Create(0.5f));
        var x = (t - Vector256.ConvertToSingle(q)) * HalfPi;
        var x2 = x * x;
        var sin = ((((x2 * (1f / 362880) - Vector256.Create(1f / 5040)) * x2 + Vector256.Create(1f / 120)) * x2 - Vector256.Create(1f / 6)) * x2 + one) * x;
        var cos = ((((x2 * (-1f / 3628800) + Vector256.Create(1f / 40320)) * x2 - Vector256.Create(1f / 720)) * x2 + Vector256.Create(1f / 24)) * x2 - Vector256.Create(0.5f)) * x2 + one;
        var swap = Vector256.Equals(q & Vector256<int>.One, Vector256<int>.One).AsSingle();
        (sin, cos) = (Vector256.ConditionalSelect(swap, cos, sin), Vector256.ConditionalSelect(swap, sin, cos));
        var two = Vector256.Create(2);
        sin = (sin.AsInt32() ^ ((q & two) << 30)).AsSingle();
        cos = (cos.AsInt32() ^ (((q + Vector256<int>.One) & two) << 30)).AsSingle();
        return (r * cos, r * sin);
    }

    // The float64 form: pair p takes 53-bit u1 from words (2p, 2p + 1) and u2 from words (2p + 256, 2p + 257);
    // outputs p and p + 128 as above, with the platform's double-precision log and sine/cosine.
    private readonly struct NormalDouble : IGroupTransform<double>
    {
        public int PerCounter => WidePerCounter;

        public void Apply(ReadOnlySpan<uint> words, Span<double> destination)
        {
            const int Pairs = GroupElements / 2;
            for (int p = 0; p < Pairs; p++)
            {
                double u1 = (Wide(words, p) + 1) * Double53;
                double u2 = Wide(words, p + Pairs) * Double53;
                double r = Math.Sqrt(-2 * Math.Log(u1));
                var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
                destination[p] = r * cos;
                destination[p + Pairs] = r * sin;
            }
        }
    }

    private readonly struct Integers(long low, ulong range) : IGroupTransform<long>
    {
        public int PerCounter => WidePerCounter;

        public void Apply(ReadOnlySpan<uint> words, Span<long> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                ulong x = ((ulong)words[2 * i + 1] << 32) | words[2 * i];
                destination[i] = unchecked(low + (long)Math.BigMul(x, range, out _));
            }
        }
    }
}
