using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

public sealed class PhiloxKernelTests
{
    // Random123's tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2 words), expected output (4 words).
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox_block_matches_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        Assert.Equal((x0, x1, x2, x3), PhiloxRandom.Block(c0, c1, c2, c3, k0, k1));
    }

    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(1, 7UL)]
    [InlineData(3, 0xFFFF_FFFEUL)]
    [InlineData(4, 0xFFFF_FFFDUL)]
    [InlineData(17, 0x1_0000_0000UL - 9)]
    [InlineData(64, 123456789UL)]
    public void Philox_fill_words_matches_one_block_at_a_time(int blocks, ulong counter)
    {
        ulong key = 0x0123_4567_89AB_CDEF;
        var words = new uint[blocks * 4];
        PhiloxRandom.FillWords(words, key, counter);
        for (int b = 0; b < blocks; b++)
        {
            ulong c = counter + (ulong)b;
            var (x0, x1, x2, x3) = PhiloxRandom.Block((uint)c, (uint)(c >> 32), 0, 0, (uint)key, (uint)(key >> 32));
            Assert.Equal([x0, x1, x2, x3], words[(4 * b)..(4 * b + 4)]);
        }
    }

    private static uint Word(ulong key, ulong counter, long word)
    {
        ulong c = counter + (ulong)(word / 4);
        var (x0, x1, x2, x3) = PhiloxRandom.Block((uint)c, (uint)(c >> 32), 0, 0, (uint)key, (uint)(key >> 32));
        return (word % 4) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
    }

    [Fact]
    public void Philox_uniform_float_is_top_24_bits_of_each_word()
    {
        const ulong key = 42, counter = 1000;
        var values = new float[777];
        PhiloxRandom.FillUniform(values, key, counter, 5);
        for (int i = 0; i < values.Length; i++)
        {
            float expected = (Word(key, counter, 5 + i) >> 8) / 16777216f;
            Assert.Equal(expected, values[i]);
            Assert.InRange(values[i], 0f, 0.99999995f);
        }
    }

    [Fact]
    public void Philox_uniform_double_is_top_53_bits_of_two_words()
    {
        const ulong key = 43, counter = 17;
        var values = new double[300];
        PhiloxRandom.FillUniform(values, key, counter, 0);
        for (int i = 0; i < values.Length; i++)
        {
            ulong bits = (((ulong)Word(key, counter, 2 * i + 1) << 32) | Word(key, counter, 2 * i)) >> 11;
            Assert.Equal(bits / 9007199254740992.0, values[i]);
            Assert.InRange(values[i], 0.0, 1.0 - 1e-17);
        }
    }

    // In each group of 256 values, pair p draws u1 from the group's word p and u2 from word p + 128
    // (float32), or from 64-bit halves p and p + 128 (float64); value p is r·cos θ, value p + 128 is r·sin θ.
    [Fact]
    public void Philox_normal_float_is_box_muller_of_word_pairs()
    {
        const ulong key = 44, counter = 3;
        var values = new float[600];
        PhiloxRandom.FillNormal(values, key, counter, 0);
        for (int i = 0; i < values.Length; i++)
        {
            int group = i / 256 * 256, p = i % 128;
            bool sine = i % 256 >= 128;
            double u1 = ((Word(key, counter, group + p) >> 8) + 1) / 16777216.0;
            double u2 = (Word(key, counter, group + 128 + p) >> 8) / 16777216.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            double expected = r * (sine ? Math.Sin(2 * Math.PI * u2) : Math.Cos(2 * Math.PI * u2));
            Assert.True(Math.Abs(expected - values[i]) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"element {i}: {values[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Philox_normal_double_is_box_muller_of_53_bit_uniforms()
    {
        const ulong key = 45, counter = 0;
        var values = new double[600];
        PhiloxRandom.FillNormal(values, key, counter, 0);
        double Uniform(long half) => ((((ulong)Word(key, counter, 2 * half + 1) << 32) | Word(key, counter, 2 * half)) >> 11) / 9007199254740992.0;
        for (int i = 0; i < values.Length; i++)
        {
            int group = i / 256 * 256, p = i % 128;
            bool sine = i % 256 >= 128;
            double u1 = Uniform(group + p) + 1 / 9007199254740992.0;
            double u2 = Uniform(group + 128 + p);
            double r = Math.Sqrt(-2 * Math.Log(u1));
            Assert.Equal(r * (sine ? Math.Sin(2 * Math.PI * u2) : Math.Cos(2 * Math.PI * u2)), values[i], 1e-12);
        }
    }

    [Fact]
    public void Philox_box_muller_vector_and_scalar_forms_agree_bit_for_bit()
    {
        var rng = new Random(12);
        var a = new uint[4096];
        var b = new uint[4096];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (uint)rng.NextInt64(1L << 32);
            b[i] = (uint)rng.NextInt64(1L << 32);
        }
        // The extremes: u1 = 1 and u1 = 2^-24; angles at and around every quarter turn.
        uint[] edges = [0, 0xFF, 0x100, 0x3FFF_FFFF, 0x4000_0000, 0x7FFF_FF00, 0x8000_0000, 0xBFFF_FFFF, 0xC000_0000, 0xFFFF_FFFF];
        for (int i = 0; i < edges.Length; i++)
            for (int j = 0; j < edges.Length; j++)
            {
                a[i * edges.Length + j] = edges[i];
                b[i * edges.Length + j] = edges[j];
            }
        for (int i = 0; i < a.Length; i += 8)
        {
            var (cos, sin) = PhiloxRandom.BoxMuller(
                System.Runtime.Intrinsics.Vector256.Create(a.AsSpan(i, 8)), System.Runtime.Intrinsics.Vector256.Create(b.AsSpan(i, 8)));
            for (int k = 0; k < 8; k++)
            {
                var (c, s) = PhiloxRandom.BoxMuller(a[i + k], b[i + k]);
                Assert.Equal(BitConverter.SingleToInt32Bits(c), BitConverter.SingleToInt32Bits(cos[k]));
                Assert.Equal(BitConverter.SingleToInt32Bits(s), BitConverter.SingleToInt32Bits(sin[k]));
            }
        }
    }

    [Theory]
    [InlineData(0xFFFF_FFFFu, 0u)]
    [InlineData(0u, 0u)]
    [InlineData(0u, 0x4000_0000u)]
    [InlineData(0x1234_5678u, 0x8000_0000u)]
    [InlineData(0x0000_0100u, 0xC000_0000u)]
    [InlineData(0x8765_4321u, 0xDFFF_FF00u)]
    [InlineData(0x0000_00FFu, 0x1FFF_FFFFu)]
    [InlineData(0x7FFF_FFFFu, 0xFFFF_FFFFu)]
    public void Philox_box_muller_matches_double_precision(uint a, uint b)
    {
        double u1 = ((a >> 8) + 1) / 16777216.0;
        double u2 = (b >> 8) / 16777216.0;
        double r = Math.Sqrt(-2 * Math.Log(u1));
        var (cos, sin) = PhiloxRandom.BoxMuller(a, b);
        Assert.Equal(r * Math.Cos(2 * Math.PI * u2), cos, 2e-6 * Math.Max(1, r));
        Assert.Equal(r * Math.Sin(2 * Math.PI * u2), sin, 2e-6 * Math.Max(1, r));
    }

    [Fact]
    public void Philox_integers_scale_64_bit_words_into_the_range()
    {
        const ulong key = 46, counter = 9;
        var values = new long[500];
        PhiloxRandom.FillIntegers(values, -7, 20, key, counter, 0);
        for (int i = 0; i < values.Length; i++)
        {
            ulong x = ((ulong)Word(key, counter, 2 * i + 1) << 32) | Word(key, counter, 2 * i);
            long expected = -7 + (long)(((UInt128)x * 20) >> 64);
            Assert.Equal(expected, values[i]);
            Assert.InRange(values[i], -7, 12);
        }
    }

    public static TheoryData<int[]> Splits() => new()
    {
        new[] { 1 },
        new[] { 255, 1 },
        new[] { 256, 256 },
        new[] { 3, 500, 7, 1000 },
        new[] { 1000, 1, 1, 1, 254, 300 },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public void Philox_fills_do_not_depend_on_chunking(int[] splits)
    {
        const ulong key = 0xDEAD_BEEF_CAFE, counter = 77;
        int n = splits.Sum();
        AssertChunked<float>(n, splits, (s, first) => PhiloxRandom.FillUniform(s, key, counter, first));
        AssertChunked<double>(n, splits, (s, first) => PhiloxRandom.FillUniform(s, key, counter, first));
        AssertChunked<float>(n, splits, (s, first) => PhiloxRandom.FillNormal(s, key, counter, first));
        AssertChunked<double>(n, splits, (s, first) => PhiloxRandom.FillNormal(s, key, counter, first));
        AssertChunked<long>(n, splits, (s, first) => PhiloxRandom.FillIntegers(s, 100, 1000, key, counter, first));
    }

    private delegate void Fill<T>(Span<T> destination, long first);

    private static void AssertChunked<T>(int n, int[] splits, Fill<T> fill) where T : unmanaged
    {
        var whole = new T[n];
        fill(whole, 0);
        var pieces = new T[n];
        int at = 0;
        foreach (var length in splits)
        {
            fill(pieces.AsSpan(at, length), at);
            at += length;
        }
        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void Philox_normal_float_has_zero_mean_and_unit_variance()
    {
        var values = new float[1_000_000];
        PhiloxRandom.FillNormal(values, 2024, 0, 0);
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        double withinOne = values.Count(v => Math.Abs(v) < 1) / (double)values.Length;
        Assert.InRange(mean, -0.005, 0.005);
        Assert.InRange(variance, 0.99, 1.01);
        Assert.InRange(withinOne, 0.6827 - 0.003, 0.6827 + 0.003);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Philox_uniform_float_covers_the_unit_interval_evenly()
    {
        var values = new float[1_000_000];
        PhiloxRandom.FillUniform(values, 7, 0, 0);
        var buckets = new int[10];
        foreach (var v in values)
        {
            Assert.True(v >= 0f && v < 1f);
            buckets[(int)(v * 10)]++;
        }
        Assert.All(buckets, b => Assert.InRange(b, 100_000 - 1500, 100_000 + 1500));
        Assert.InRange(values.Average(v => (double)v), 0.499, 0.501);
    }
}
