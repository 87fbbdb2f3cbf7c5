using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Tensors;

/// <summary>
/// Tests that seed and draw from the process-wide random stream. They run alone (no other test runs
/// beside them), since a draw on another thread between a seed and a draw would change the values.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RandomStateCollection
{
    public const string Name = "Random state";
}

[Collection(RandomStateCollection.Name)]
public sealed class RandomTests
{
    [Fact]
    public void Rand_same_seed_gives_same_values()
    {
        Engine.ManualSeed(123);
        var a = Tensor.Rand([4, 5]).ToArray<float>();
        var b = Tensor.Randn([7]).ToArray<float>();
        var c = Tensor.RandInt(0, 100, [9]).ToArray<long>();
        Engine.ManualSeed(123);
        Assert.Equal(a, Tensor.Rand([4, 5]).ToArray<float>());
        Assert.Equal(b, Tensor.Randn([7]).ToArray<float>());
        Assert.Equal(c, Tensor.RandInt(0, 100, [9]).ToArray<long>());
    }

    [Fact]
    public void SetRngState_replays_the_draws_made_after_GetRngState()
    {
        Engine.ManualSeed(5);
        using var skipped = Tensor.Rand([13]);
        var state = Engine.GetRngState();
        Assert.Equal(5ul, state.Seed);
        Assert.Equal(4ul, state.Counter); // 13 float32 values use 4 counters
        var a = Tensor.Rand([6]).ToArray<float>();
        var b = Tensor.Randn([5]).ToArray<float>();
        Engine.ManualSeed(99);
        using var other = Tensor.Rand([3]);
        Engine.SetRngState(state);
        Assert.Equal(a, Tensor.Rand([6]).ToArray<float>());
        Assert.Equal(b, Tensor.Randn([5]).ToArray<float>());
    }

    [Fact]
    public void Rand_different_seeds_give_different_values()
    {
        Engine.ManualSeed(1);
        var a = Tensor.Rand([100]).ToArray<float>();
        Engine.ManualSeed(2);
        var b = Tensor.Rand([100]).ToArray<float>();
        Assert.True(a.Zip(b).Count(p => p.First == p.Second) < 5);
    }

    [Fact]
    public void Rand_successive_draws_differ_and_continue_the_stream()
    {
        Engine.ManualSeed(9);
        var first = Tensor.Rand([10]).ToArray<float>();
        var second = Tensor.Rand([10]).ToArray<float>();
        Assert.NotEqual(first, second);

        // 10 float32 values use 3 counters, so the second draw starts at counter 3.
        var expected = new float[10];
        PhiloxRandom.FillUniform(expected, 9, 3, 0);
        Assert.Equal(expected, second);
    }

    [Fact]
    public void Rand_of_a_large_tensor_equals_one_sequential_fill()
    {
        // Large enough to be split over threads; every element must still come from its own counter.
        const int n = 1_000_003;
        Engine.ManualSeed(77);
        var uniform = Tensor.Rand([n]).ToArray<float>();
        var normal = Tensor.Randn([n], DType.Float64).ToArray<double>();

        var expectedUniform = new float[n];
        PhiloxRandom.FillUniform(expectedUniform, 77, 0, 0);
        var expectedNormal = new double[n];
        PhiloxRandom.FillNormal(expectedNormal, 77, PhiloxRandom.CountersFor(n, PhiloxRandom.FloatPerCounter), 0);
        Assert.Equal(expectedUniform, uniform);
        Assert.Equal(expectedNormal, normal);
    }

    [Fact]
    public void Rand_values_lie_in_zero_one()
    {
        Engine.ManualSeed(5);
        var f = Tensor.Rand([10_000]);
        Assert.Equal(DType.Float32, f.DType);
        Assert.All(f.ToArray<float>(), v => Assert.True(v >= 0f && v < 1f));
        var d = Tensor.Rand([10_000], DType.Float64);
        Assert.All(d.ToArray<double>(), v => Assert.True(v >= 0.0 && v < 1.0));
        Assert.InRange(d.ToArray<double>().Average(), 0.49, 0.51);
    }

    [Fact]
    public void Randn_one_million_values_have_standard_moments()
    {
        Engine.ManualSeed(31);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var values = TestTensors.Values(Tensor.Randn([1000, 1000], dtype));
            double mean = values.Average();
            double variance = values.Average(v => (v - mean) * (v - mean));
            Assert.InRange(mean, -0.005, 0.005);
            Assert.InRange(variance, 0.99, 1.01);
        }
    }

    [Fact]
    public void Normal_and_Uniform_scale_the_standard_draws()
    {
        Engine.ManualSeed(8);
        var values = Tensor.Normal(3, 0.5, [200_000]).ToArray<float>();
        Assert.InRange(values.Average(v => (double)v), 2.99, 3.01);
        Assert.InRange(Math.Sqrt(values.Average(v => (v - 3.0) * (v - 3.0))), 0.49, 0.51);

        var uniform = Tensor.Uniform(-2, 5, [100_000], DType.Float64).ToArray<double>();
        Assert.All(uniform, v => Assert.InRange(v, -2, 5));
        Assert.InRange(uniform.Min(), -2, -1.99);
        Assert.InRange(uniform.Max(), 4.99, 5);
    }

    [Fact]
    public void RandInt_values_lie_in_range_and_cover_it()
    {
        Engine.ManualSeed(3);
        var t = Tensor.RandInt(-3, 4, [10_000]);
        Assert.Equal(DType.Int64, t.DType);
        var values = t.ToArray<long>();
        Assert.All(values, v => Assert.InRange(v, -3, 3));
        Assert.Equal(7, values.Distinct().Count());
        Assert.All(values.GroupBy(v => v), g => Assert.InRange(g.Count(), 10_000 / 7 - 200, 10_000 / 7 + 200));

        var small = Tensor.RandInt(5, [100], DType.Int32);
        Assert.Equal(DType.Int32, small.DType);
        Assert.All(small.ToArray<int>(), v => Assert.InRange(v, 0, 4));

        var wide = Tensor.RandInt(long.MinValue, long.MaxValue, [1000]).ToArray<long>();
        Assert.Contains(wide, v => v < 0);
        Assert.Contains(wide, v => v > 0);
    }

    [Fact]
    public void Random_creation_rejects_bad_arguments()
    {
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => Tensor.Rand([2], DType.Int64)).Message);
        Assert.Contains("Randn", Assert.Throws<ArgumentException>(() => Tensor.Randn([2], DType.Bool)).Message);
        Assert.Contains("low (5)", Assert.Throws<ArgumentException>(() => Tensor.RandInt(5, 5, [2])).Message);
        Assert.Throws<ArgumentException>(() => Tensor.RandInt(0, 1L << 40, [2], DType.Int32));
        Assert.Throws<ArgumentException>(() => Tensor.Normal(0, -1, [2]));
        Assert.Throws<KilnShapeException>(() => Tensor.Rand([-1]));
    }

    [Fact]
    public void RandLike_and_RandnLike_copy_shape_and_dtype()
    {
        var like = Tensor.Zeros([3, 2], DType.Float64);
        var r = Tensor.RandLike(like);
        var n = Tensor.RandnLike(like);
        Assert.Equal(like.Shape, r.Shape);
        Assert.Equal(DType.Float64, r.DType);
        Assert.Equal(like.Shape, n.Shape);
        Assert.Equal(DType.Float64, n.DType);
    }

    [Fact]
    public void Rand_of_empty_shape_is_empty_and_scalar_shape_has_one_value()
    {
        Assert.Equal(0, Tensor.Rand([0, 3]).NumElements);
        var scalar = Tensor.Randn([]);
        Assert.Equal(0, scalar.Rank);
        Assert.True(float.IsFinite(scalar.Item<float>()));
    }
}
