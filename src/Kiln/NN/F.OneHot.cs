namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// One-hot encoding of int64 class <paramref name="indices"/>: an int64 tensor of shape
    /// [..indices.Shape, numClasses] with a 1 at each index's class and 0 elsewhere. With
    /// <paramref name="numClasses"/> -1 the count is the largest index plus one. Not differentiable.
    /// </summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.DType != DType.Int64)
            throw new KilnShapeException($"OneHot: indices must be int64, got {indices.Shape} {indices.DType.Name()}");
        if (numClasses < -1 || numClasses == 0 && indices.NumElements > 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), $"OneHot: numClasses must be positive or -1, got {numClasses}");
        var values = indices.ToArray<long>();
        if (numClasses == -1)
        {
            if (values.Length == 0)
                throw new ArgumentException("OneHot: cannot infer the number of classes from an empty tensor; pass numClasses");
            long max = values.Max();
            if (max >= int.MaxValue) throw new ArgumentOutOfRangeException(nameof(indices), $"OneHot: class index {max} is too large");
            numClasses = (int)Math.Max(max + 1, 1);
        }
        foreach (var v in values)
            if (v < 0 || v >= numClasses)
                throw new ArgumentOutOfRangeException(nameof(indices), $"OneHot: class index {v} is out of range for {numClasses} classes");
        int[] columnShape = [.. indices.Shape, 1];
        using var column = indices.Reshape(columnShape);
        using var ones = Tensor.Ones(columnShape, DType.Int64);
        using var zeros = Tensor.Zeros([.. indices.Shape, numClasses], DType.Int64);
        return zeros.ScatterAdd(-1, column, ones);
    }
}
