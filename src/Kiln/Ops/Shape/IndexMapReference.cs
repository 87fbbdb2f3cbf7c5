namespace Kiln.Ops;

/// <summary>
/// The float64 reference of a shape op, written as plain index arithmetic: each output element is
/// read from the input element its index maps to. Used by the view ops' Reference methods only.
/// </summary>
internal static class IndexMapReference
{
    /// <summary>
    /// An output of <paramref name="outShape"/> whose element at index i is the input element at
    /// the index <paramref name="map"/> writes for i.
    /// </summary>
    internal static Tensor Build(Tensor input, int[] outShape, Action<int[], int[]> map)
    {
        var values = input.ToArray<double>();
        var inShape = input.ShapeArray;
        var result = new double[Kiln.Shape.Wrap(outShape).NumElements];
        var outIndex = new int[outShape.Length];
        var inIndex = new int[inShape.Length];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rem = flat;
            for (int d = outShape.Length - 1; d >= 0; d--) { outIndex[d] = rem % outShape[d]; rem /= outShape[d]; }
            map(outIndex, inIndex);
            int src = 0;
            for (int d = 0; d < inShape.Length; d++) src = src * inShape[d] + inIndex[d];
            result[flat] = values[src];
        }
        return Tensor.From<double>(result, outShape);
    }
}
