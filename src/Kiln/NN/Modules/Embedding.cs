namespace Kiln.NN;

/// <summary>
/// A lookup table of <see cref="NumEmbeddings"/> vectors of size <see cref="EmbeddingDim"/>
/// (PyTorch's <c>nn.Embedding</c>), initialized from N(0, 1). Int64 indices of any shape give
/// [..indices, EmbeddingDim]. The row at <see cref="PaddingIdx"/>, when set, starts at zero and
/// receives no gradient.
/// </summary>
public class Embedding : Module
{
    /// <summary>
    /// A table of <paramref name="numEmbeddings"/> vectors of size <paramref name="embeddingDim"/>;
    /// <paramref name="paddingIdx"/> (negative counts from the end) names a row that stays fixed.
    /// </summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null)
    {
        RequirePositive(numEmbeddings, nameof(numEmbeddings));
        RequirePositive(embeddingDim, nameof(embeddingDim));
        if (paddingIdx is { } p)
        {
            if (p < -numEmbeddings || p >= numEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(paddingIdx), p, $"Embedding: paddingIdx must be within [{-numEmbeddings}, {numEmbeddings}), got {p}");
            paddingIdx = p < 0 ? p + numEmbeddings : p;
        }
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx;
        Weight = NewParameter(numEmbeddings, embeddingDim);
        ResetParameters();
    }

    /// <summary>Number of rows of the table.</summary>
    public int NumEmbeddings { get; }

    /// <summary>Size of each vector.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The row that stays fixed (made non-negative), or null.</summary>
    public int? PaddingIdx { get; }

    /// <summary>The table, [NumEmbeddings, EmbeddingDim].</summary>
    public Tensor Weight { get; }

    /// <summary>Draws the table again from N(0, 1), with the padding row zeroed.</summary>
    public void ResetParameters()
    {
        Init.Normal(Weight);
        if (PaddingIdx is { } p)
            using (Engine.NoGrad())
            using (var row = Weight.Select(0, p))
                Init.Zeros(row);
    }

    /// <summary>The rows of the table at the int64 <paramref name="input"/> indices.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.DType != DType.Int64) throw InputError($"indices must be int64, got {input.DType.Name()} {input.Shape}");
        // The range check reads values, so a trace runs it once and leaves it out of the graph;
        // the graph's IndexSelect still refuses an index out of range at every call.
        if (input.NumElements > 0)
        {
            using var untraced = Kiln.Ops.TraceRecorder.Suspend();
            long min = input.Min().Item<long>(), max = input.Max().Item<long>();
            if (min < 0 || max >= NumEmbeddings)
                throw InputError($"index {(min < 0 ? min : max)} is out of range for {NumEmbeddings} embeddings");
        }
        var rows = F.Embedding(input, Weight);
        if (PaddingIdx is not { } pad || !rows.RequiresGrad) return rows;
        // The padding row's value is used but its gradient is dropped, as PyTorch does.
        var isPad = input.Eq(pad).Unsqueeze(-1);
        return Tensor.Where(isPad, rows.Detach(), rows);
    }

    protected override string? Signature => $"{NumEmbeddings}x{EmbeddingDim}";

    protected override string ExtraRepr() => PaddingIdx is { } p ? $"{NumEmbeddings}, {EmbeddingDim}, padding_idx={p}" : $"{NumEmbeddings}, {EmbeddingDim}";
}
