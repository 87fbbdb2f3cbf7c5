namespace Kiln.Tests.Ops.ShapeOps;

/// <summary>Inputs for the shape-op tests whose element at index (i, j, ...) is its row-major position, so expected values are index arithmetic.</summary>
internal static class ShapeTestData
{
    /// <summary>A float64 tensor whose elements are 0, 1, 2, ... in row-major order.</summary>
    internal static Tensor Arange(params int[] shape)
    {
        var data = new double[Kiln.Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        return Tensor.From<double>(data, shape);
    }

    /// <summary>Row-major position of <paramref name="index"/> in <paramref name="shape"/>.</summary>
    internal static double Position(int[] shape, params int[] index)
    {
        int p = 0;
        for (int d = 0; d < shape.Length; d++) p = p * shape[d] + index[d];
        return p;
    }
}
