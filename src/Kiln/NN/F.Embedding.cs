namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> (a [numEmbeddings, embeddingDim] table) for int64
    /// <paramref name="indices"/> of any shape; the result has shape [..indices.Shape, embeddingDim].
    /// The gradient flows to the rows that were used (summed over repeats).
    /// </summary>
    public static Tensor Embedding(Tensor indices, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new KilnShapeException($"Embedding: weight must be 2-D [numEmbeddings, embeddingDim], got {weight.Shape} {weight.DType.Name()}");
        if (indices.DType != DType.Int64)
            throw new KilnShapeException($"Embedding: indices must be int64, got {indices.Shape} {indices.DType.Name()}");
        var rows = weight.IndexSelect(0, indices.Reshape(-1));
        return rows.Reshape([.. indices.Shape, weight.Size(1)]);
    }
}
