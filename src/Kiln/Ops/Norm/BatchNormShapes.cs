using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// What the batch-norm primitives share: the [N, C, inner] geometry of an input, the checks of the
/// input and of its per-channel vectors, views of a [C] vector along the channel axis, and the
/// conformance shapes.
/// </summary>
internal static class BatchNormShapes
{
    internal static BatchNormKernel.Geometry Geometry(int[] shape)
    {
        int inner = 1;
        for (int d = 2; d < shape.Length; d++) inner *= shape[d];
        return new BatchNormKernel.Geometry(shape[0], shape[1], inner);
    }

    /// <summary>The dimensions a per-channel sum runs over: all but the channel axis (1).</summary>
    internal static int[] ReducedDims(int rank)
    {
        var dims = new int[rank - 1];
        dims[0] = 0;
        for (int d = 2; d < rank; d++) dims[d - 1] = d;
        return dims;
    }

    /// <summary>A [C] vector as [1, C, 1, ...], broadcasting along the channel axis of a rank-<paramref name="rank"/> input.</summary>
    internal static Tensor ChannelView(Tensor vector, int rank)
    {
        var shape = new int[rank];
        Array.Fill(shape, 1);
        shape[1] = vector.ShapeArray[0];
        return vector.Reshape(shape);
    }

    /// <summary>Σ over everything but the channel axis, as a [C] vector.</summary>
    internal static Tensor ChannelSum(Tensor t) => t.Sum(ReducedDims(t.Rank));

    /// <summary>Checks the input at <paramref name="index"/>: floating point, [N, C, ...].</summary>
    internal static void CheckInput(OpDef op, ReadOnlySpan<TensorSpec> inputs, int index)
    {
        var x = inputs[index];
        if (!x.DType.IsFloatingPoint()) throw op.Error($"input must be floating point, got {x.DType.Name()}", inputs);
        if (x.Shape.Rank < 2) throw op.Error($"input must be [N, C] or [N, C, ...], got rank {x.Shape.Rank}", inputs);
    }

    /// <summary>Checks that input <paramref name="index"/> (named <paramref name="role"/>) has the input's dtype and <paramref name="shape"/>.</summary>
    internal static void CheckOperand(OpDef op, ReadOnlySpan<TensorSpec> inputs, int index, string role, Shape shape)
    {
        var (x, t) = (inputs[0], inputs[index]);
        if (t.DType != x.DType || t.Shape != shape)
            throw op.Error($"{role} must be {shape} {x.DType.Name()}, got {t.Shape} {t.DType.Name()}", inputs);
    }

    /// <summary>Input shapes the batch-norm samples cover: [N, C] (channels contiguous, one and two column blocks) and [N, C, ...].</summary>
    internal static IEnumerable<(string Description, int[] Shape)> Cases() =>
    [
        ("[N, C]", [5, 3]),
        ("[N, C] over two column blocks", [3, 70]),
        ("[N, C, L]", [3, 2, 5]),
        ("[N, C, H, W]", [2, 3, 4, 5]),
        ("[N, C, H, W] with a vector body and tail", [2, 2, 3, 7]),
    ];

    /// <summary>Float64 per-channel values of x (as [N, C, inner]) by plain loops: the references' building block.</summary>
    internal static double[][] Channels(Tensor x)
    {
        var g = Geometry(x.ShapeArray);
        var v = x.ToArray<double>();
        var channels = new double[g.Channels][];
        for (int c = 0; c < g.Channels; c++)
        {
            channels[c] = new double[g.Count];
            for (int n = 0; n < g.Batch; n++)
                for (int i = 0; i < g.Inner; i++) channels[c][n * g.Inner + i] = v[(n * g.Channels + c) * g.Inner + i];
        }
        return channels;
    }

    /// <summary>The inverse of <see cref="Channels"/>: per-channel values back into x's layout.</summary>
    internal static Tensor FromChannels(double[][] channels, int[] shape)
    {
        var g = Geometry(shape);
        var v = new double[g.Count * g.Channels];
        for (int c = 0; c < g.Channels; c++)
            for (int n = 0; n < g.Batch; n++)
                for (int i = 0; i < g.Inner; i++) v[(n * g.Channels + c) * g.Inner + i] = channels[c][n * g.Inner + i];
        return Tensor.From<double>(v, shape);
    }
}
