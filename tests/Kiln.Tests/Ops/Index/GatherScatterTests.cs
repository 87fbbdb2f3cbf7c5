namespace Kiln.Tests.Ops.Index;

public sealed class GatherScatterTests
{
    private static Tensor Longs(long[,] values) => Tensor.From(values);

    [Fact]
    public void Gather_matches_the_pytorch_example()
    {
        var t = Tensor.From(new float[,] { { 1, 2 }, { 3, 4 } });
        var index = Longs(new long[,] { { 0, 0 }, { 1, 0 } });
        Assert.Equal(new float[,] { { 1, 1 }, { 4, 3 } }, t.Gather(1, index).ToArray2D<float>());
        Assert.Equal(new float[,] { { 1, 2 }, { 3, 2 } }, t.Gather(0, index).ToArray2D<float>());
        Assert.Equal(new float[,] { { 1, 1 }, { 4, 3 } }, t.Gather(-1, index).ToArray2D<float>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Gather_matches_nested_loops_on_3d(int dim)
    {
        var rng = new Random(dim);
        var x = new double[3, 4, 5];
        foreach (var (i, j, k) in Cube(3, 4, 5)) x[i, j, k] = rng.NextDouble();
        int[] indexShape = [2, 3, 4];
        indexShape[dim] = 6;
        int size = x.GetLength(dim);
        var index = new long[indexShape[0], indexShape[1], indexShape[2]];
        foreach (var (i, j, k) in Cube(indexShape[0], indexShape[1], indexShape[2])) index[i, j, k] = rng.Next(size);

        var actual = Tensor.From(x).Gather(dim, Tensor.From(index)).ToArray3D<double>();

        foreach (var (i, j, k) in Cube(indexShape[0], indexShape[1], indexShape[2]))
        {
            long v = index[i, j, k];
            double expected = dim switch { 0 => x[v, j, k], 1 => x[i, v, k], _ => x[i, j, v] };
            Assert.Equal(expected, actual[i, j, k]);
        }
    }

    private static IEnumerable<(int, int, int)> Cube(int a, int b, int c)
    {
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++) yield return (i, j, k);
    }

    [Fact]
    public void Gather_works_on_integer_and_bool_inputs()
    {
        var index = Tensor.From(new long[] { 2, 0, 2 });
        Assert.Equal(new long[] { 30, 10, 30 }, Tensor.From(new long[] { 10, 20, 30 }).Gather(0, index).ToArray<long>());
        Assert.Equal(new[] { true, false, true }, Tensor.From(new[] { false, false, true }).Gather(0, index).ToArray<bool>());
    }

    [Fact]
    public void ScatterAdd_matches_the_pytorch_examples()
    {
        var src = Tensor.Ones([2, 5]);
        var one = Longs(new long[,] { { 0, 1, 2, 0, 0 } });
        Assert.Equal(new float[,] { { 1, 0, 0, 1, 1 }, { 0, 1, 0, 0, 0 }, { 0, 0, 1, 0, 0 } },
            Tensor.Zeros([3, 5]).ScatterAdd(0, one, src).ToArray2D<float>());
        var two = Longs(new long[,] { { 0, 1, 2, 0, 0 }, { 0, 1, 2, 2, 2 } });
        Assert.Equal(new float[,] { { 2, 0, 0, 1, 1 }, { 0, 2, 0, 0, 0 }, { 0, 0, 2, 1, 1 } },
            Tensor.Zeros([3, 5]).ScatterAdd(0, two, src).ToArray2D<float>());
    }

    [Fact]
    public void ScatterAdd_matches_nested_loops_and_leaves_its_input_alone()
    {
        var rng = new Random(5);
        var input = new double[4, 6];
        var source = new double[3, 7];
        var index = new long[3, 5];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) input[i, j] = rng.NextDouble();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 7; j++) source[i, j] = rng.NextDouble();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) index[i, j] = rng.Next(6);

        var x = Tensor.From(input);
        var actual = x.ScatterAdd(1, Tensor.From(index), Tensor.From(source)).ToArray2D<double>();

        var expected = (double[,])input.Clone();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) expected[i, index[i, j]] += source[i, j];
        Assert.Equal(expected, actual);
        Assert.Equal(input, x.ToArray2D<double>());
    }

    [Fact]
    public void ScatterAdd_accepts_a_broadcast_index_and_integer_values()
    {
        var index = Tensor.From(new long[] { 1, 0, 1 }).Reshape(3, 1).Expand(3, 2);
        var result = Tensor.Zeros([2, 2], DType.Int64).ScatterAdd(0, index, Tensor.From(new long[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }));
        Assert.Equal(new long[,] { { 3, 4 }, { 6, 8 } }, result.ToArray2D<long>());
    }

    [Fact]
    public void ScatterAdd_accumulates_repeats_the_same_way_every_time()
    {
        var rng = new Random(11);
        var values = Enumerable.Range(0, 50_000).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var targets = Enumerable.Range(0, 50_000).Select(_ => (long)rng.Next(3)).ToArray();
        var source = Tensor.From(values);
        var index = Tensor.From(targets);
        var first = Tensor.Zeros([3]).ScatterAdd(0, index, source).ToArray<float>();
        for (int run = 0; run < 3; run++)
            Assert.Equal(first, Tensor.Zeros([3]).ScatterAdd(0, index, source).ToArray<float>());

        var sequential = new float[3];
        for (int i = 0; i < values.Length; i++) sequential[targets[i]] += values[i];
        Assert.Equal(sequential, first);
    }

    [Fact]
    public void ScatterAddInPlace_changes_the_tensor_and_its_version()
    {
        var x = Tensor.Zeros([3]);
        int version = x.Version;
        var returned = x.ScatterAddInPlace(0, Tensor.From(new long[] { 2, 2 }), Tensor.From(new float[] { 1, 4 }));
        Assert.Same(x, returned);
        Assert.Equal(new float[] { 0, 0, 5 }, x.ToArray<float>());
        Assert.NotEqual(version, x.Version);

        var leaf = Tensor.Zeros([3]);
        leaf.RequiresGrad = true;
        Assert.Throws<KilnAutogradException>(() => leaf.ScatterAddInPlace(0, Tensor.From(new long[] { 0 }), Tensor.From(new float[] { 1 })));
    }

    [Theory]
    [InlineData(4L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void Gather_and_ScatterAdd_name_the_bad_index_and_the_dimension_size(long bad)
    {
        var x = Tensor.Zeros([3, 4]);
        var index = Longs(new long[,] { { 0, 1 }, { 2, bad } });
        var gather = Assert.Throws<ArgumentOutOfRangeException>(() => x.Gather(1, index));
        Assert.Contains($"Gather: index {bad} is out of bounds for dimension 1 with size 4", gather.Message);

        var scatter = Assert.Throws<ArgumentOutOfRangeException>(() => x.ScatterAdd(1, index, Tensor.Ones([2, 2])));
        Assert.Contains($"ScatterAdd: index {bad} is out of bounds for dimension 1 with size 4", scatter.Message);

        var before = x.ToArray<float>();
        Assert.Throws<ArgumentOutOfRangeException>(() => x.ScatterAddInPlace(1, index, Tensor.Ones([2, 2])));
        Assert.Equal(before, x.ToArray<float>());
    }

    [Fact]
    public void Gather_shape_errors_name_the_op_and_shapes()
    {
        var x = Tensor.Zeros([3, 4]);
        var ex = Assert.Throws<KilnShapeException>(() => x.Gather(0, Tensor.Zeros([2, 5], DType.Int64)));
        Assert.Contains("Gather", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Contains("int64", Assert.Throws<KilnShapeException>(() => x.Gather(0, Tensor.Zeros([2, 4], DType.Int32))).Message);
        Assert.Contains("dimension 2", Assert.Throws<KilnShapeException>(() => x.Gather(2, Tensor.Zeros([2, 4], DType.Int64))).Message);
    }

    [Fact]
    public void Gather_backward_counts_repeated_indices()
    {
        var x = Tensor.From(new double[] { 1, 2, 3, 4 });
        x.RequiresGrad = true;
        var y = x.Gather(0, Tensor.From(new long[] { 0, 0, 3, 0 }));
        y.Sum().Backward();
        Assert.Equal(new double[] { 3, 0, 0, 1 }, x.Grad!.ToArray<double>());
        Assert.Equal("GatherBackward", y.GradFnName);
    }

    [Fact]
    public void Gather_gradient_is_itself_differentiable()
    {
        // loss = sum(gather(x)^2): grad_k = 2 c_k x_k, where c_k counts index entries equal to k;
        // d(sum grad)/dx_k = 2 c_k.
        var x = Tensor.From(new double[] { 0.5, -1, 2 });
        x.RequiresGrad = true;
        var index = Tensor.From(new long[] { 2, 0, 2, 2 });
        var y = x.Gather(0, index);
        var grad = Engine.Grad((y * y).Sum(), x, createGraph: true);
        Assert.Equal(new double[] { 2 * 1 * 0.5, 0, 2 * 3 * 2.0 }, grad.ToArray<double>());
        var second = Engine.Grad(grad.Sum(), x);
        Assert.Equal(new double[] { 2, 0, 6 }, second.ToArray<double>());
    }

    [Fact]
    public void ScatterAdd_backward_sends_gathered_gradient_to_the_source_and_zero_beyond_the_index()
    {
        var input = Tensor.Zeros([2, 3], DType.Float64);
        input.RequiresGrad = true;
        var source = Tensor.From(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        source.RequiresGrad = true;
        var index = Tensor.From(new long[,] { { 1, 0 } });
        var weights = Tensor.From(new double[,] { { 10, 20, 30 }, { 40, 50, 60 } });
        (input.ScatterAdd(0, index, source) * weights).Sum().Backward();
        Assert.Equal(new double[,] { { 10, 20, 30 }, { 40, 50, 60 } }, input.Grad!.ToArray2D<double>());
        // source[0, 0] went to out[1, 0], source[0, 1] to out[0, 1]; the rest of the source was not used.
        Assert.Equal(new double[,] { { 40, 20, 0 }, { 0, 0, 0 } }, source.Grad!.ToArray2D<double>());
    }
}
