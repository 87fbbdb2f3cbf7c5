namespace Kiln.Tests.Tensors;

/// <summary>Shape.TryBroadcast: NumPy's rule, returning an input's own shape when the result equals it.</summary>
public sealed class ShapeBroadcastTests
{
    [Fact]
    public void The_result_is_an_input_shape_when_it_equals_one()
    {
        Shape matrix = new(4, 8), row = new(8), scalar = new();
        Assert.True(Shape.TryBroadcast(matrix, row, out var r1));
        Assert.Same(matrix.Dims, r1.Dims);
        Assert.True(Shape.TryBroadcast(row, matrix, out var r2));
        Assert.Same(matrix.Dims, r2.Dims);
        Assert.True(Shape.TryBroadcast(scalar, matrix, out var r3));
        Assert.Same(matrix.Dims, r3.Dims);
        Assert.True(Shape.TryBroadcast(new Shape(3, 1), new Shape(1, 5), out var r4));
        Assert.Equal(new Shape(3, 5), r4);
        Assert.False(Shape.TryBroadcast(new Shape(2, 3), new Shape(4), out _));
    }

    [Fact]
    public void Random_shapes_broadcast_as_numpy_does()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 2000; trial++)
        {
            var a = Enumerable.Range(0, rng.Next(0, 5)).Select(_ => rng.Next(0, 4)).ToArray();
            var b = Enumerable.Range(0, rng.Next(0, 5)).Select(_ => rng.Next(0, 4)).ToArray();
            // NumPy's rule written out: right-aligned, each pair equal or one of them 1.
            int rank = Math.Max(a.Length, b.Length);
            var expected = new int[rank];
            bool ok = true;
            for (int i = 0; i < rank; i++)
            {
                int x = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
                int y = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
                if (x != y && x != 1 && y != 1) ok = false;
                expected[i] = x == 1 ? y : x;
            }
            Assert.Equal(ok, Shape.TryBroadcast(new Shape(a), new Shape(b), out var result));
            if (ok) Assert.Equal(expected, result.ToArray());
        }
    }
}
