namespace Kiln.Ops;

/// <summary>
/// Attributes shared by the reductions: the reduced dimensions (normalized, sorted, distinct; empty
/// means all) and whether they are kept as size 1. Also the shape rule and the helpers the reductions
/// and their references share.
/// </summary>
internal sealed record ReduceAttributes(IntList Axes, bool KeepDim) : OpAttributes
{
    internal static ReduceAttributes All(bool keepDim) => new(IntList.Empty, keepDim);

    internal static ReduceAttributes Create(ReadOnlySpan<int> dims, int rank, bool keepDim)
    {
        // Out-of-range and repeated dimensions are kept as given: the op's Infer rejects them with an
        // error that names the op and the input's shape and dtype.
        var axes = new List<int>(dims.Length);
        foreach (var d in dims) axes.Add(d < 0 && d + rank >= 0 ? d + rank : d);
        axes.Sort();
        return new ReduceAttributes(new IntList([.. axes]), keepDim);
    }

    internal bool Reduces(int dim, int rank) => Axes.Count == 0 || Axes.AsSpan().Contains(dim) || rank == 0;

    internal Shape OutputShape(OpDef op, ReadOnlySpan<TensorSpec> inputs)
    {
        var x = inputs[0];
        int rank = x.Shape.Rank;
        var axes = Axes.AsSpan();
        for (int i = 0; i < axes.Length; i++)
        {
            if ((axes[i] < 0 || axes[i] >= rank) && !(rank == 0 && axes[i] is 0 or -1))
                throw op.Error($"dimension {axes[i]} is out of range for rank {rank}", inputs);
            if (i > 0 && axes[i] == axes[i - 1])
                throw op.Error($"dimension {axes[i]} is reduced twice", inputs);
        }
        var dims = new List<int>();
        for (int i = 0; i < rank; i++)
        {
            if (!Reduces(i, rank)) dims.Add(x.Shape[i]);
            else if (KeepDim) dims.Add(1);
        }
        return Shape.Wrap([.. dims]);
    }

    /// <summary>The input permuted so the reduced dimensions come last, made contiguous: one output element per row.</summary>
    internal static Tensor ReducedLast(Tensor x, ReduceAttributes a)
    {
        int rank = x.Rank;
        var order = new List<int>(rank);
        for (int i = 0; i < rank; i++) if (!a.Reduces(i, rank)) order.Add(i);
        for (int i = 0; i < rank; i++) if (a.Reduces(i, rank)) order.Add(i);
        var shape = new int[rank];
        var strides = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            shape[i] = x.ShapeArray[order[i]];
            strides[i] = x.StridesArray[order[i]];
        }
        using var view = x.AsStrided(shape, strides, x.OffsetElements);
        var result = Tensor.Empty(shape, x.DType);
        Dispatcher.CopyInto(view, result);
        return result;
    }

    /// <summary>Broadcasts a reduced gradient back over the input's shape.</summary>
    internal Tensor Unreduce(Tensor grad, Shape inputShape)
    {
        int rank = inputShape.Rank;
        if (!KeepDim)
        {
            var dims = new int[rank];
            for (int i = 0; i < rank; i++) dims[i] = Reduces(i, rank) ? 1 : inputShape[i];
            grad = grad.Reshape(dims);
        }
        return grad.Expand(inputShape.ToArray());
    }

    /// <summary>The naive reference for a reduction: <paramref name="fold"/> applied to each output's values in index order.</summary>
    internal Tensor ReferenceReduce(OpDef op, Tensor x, Func<List<double>, double> fold)
    {
        var shape = OutputShape(op, [TensorSpec.Of(x)]);
        var values = x.ToArray<double>();
        var rank = x.Rank;
        var outN = (int)shape.NumElements;
        var groups = new List<double>[outN];
        for (int i = 0; i < outN; i++) groups[i] = new List<double>();
        var index = new int[rank];
        for (int flat = 0; flat < values.Length; flat++)
        {
            int rem = flat;
            for (int d = rank - 1; d >= 0; d--) { index[d] = rem % x.ShapeArray[d]; rem /= x.ShapeArray[d]; }
            int o = 0;
            for (int d = 0; d < rank; d++)
                if (!Reduces(d, rank)) o = o * x.ShapeArray[d] + index[d];
            groups[o].Add(values[flat]);
        }
        var result = new double[outN];
        for (int i = 0; i < outN; i++) result[i] = fold(groups[i]);
        return Tensor.From<double>(result, shape.ToArray());
    }

    internal static IEnumerable<OpSample> StandardSamples(double low, double high) =>
    [
        new("all", () => [OpSample.Uniform(31, low, high, 4, 5)], All(false)),
        new("dim 1", () => [OpSample.Uniform(32, low, high, 4, 5)], new ReduceAttributes(new IntList(1), false)),
        new("dim 0 keep", () => [OpSample.Uniform(33, low, high, 4, 5)], new ReduceAttributes(new IntList(0), true)),
        new("dims 0,2 of 3-d", () => [OpSample.Uniform(34, low, high, 3, 4, 5)], new ReduceAttributes(new IntList(0, 2), false)),
        new("long rows", () => [OpSample.Uniform(35, low, high, 3, 259)], new ReduceAttributes(new IntList(1), false)) { CheckGradient = false },
    ];

    internal static IEnumerable<OpInvalidSample> StandardInvalidSamples() =>
        [new("dimension out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new ReduceAttributes(new IntList(2), false))];
}
