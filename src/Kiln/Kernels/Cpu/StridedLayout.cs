namespace Kiln.Kernels.Cpu;

/// <summary>
/// The iteration space of an elementwise kernel: one shape and, per operand, strides in elements
/// (0 on broadcast dimensions). Dimensions of size 1 are dropped and adjacent dimensions that are
/// contiguous in every operand are merged, so most loops see one long contiguous row.
/// </summary>
internal sealed class StridedLayout
{
    internal readonly int[] Shape;
    internal readonly int[][] Strides;

    private StridedLayout(int[] shape, int[][] strides)
    {
        Shape = shape;
        Strides = strides;
    }

    internal int Rank => Shape.Length;

    /// <summary>
    /// Builds the coalesced layout for an output of <paramref name="outShape"/>; each operand's shape must
    /// broadcast to it (right-aligned).
    /// </summary>
    internal static StridedLayout Create(ReadOnlySpan<int> outShape, ReadOnlySpan<int> outStrides, params ReadOnlySpan<(int[] Shape, int[] Strides)> inputs)
    {
        int rank = outShape.Length;
        int operands = inputs.Length + 1;
        var strides = new int[operands][];
        strides[0] = outStrides.ToArray();
        for (int k = 0; k < inputs.Length; k++)
        {
            var (shape, st) = inputs[k];
            var s = new int[rank];
            int lead = rank - shape.Length;
            for (int i = 0; i < rank; i++)
            {
                int j = i - lead;
                s[i] = j < 0 || shape[j] == 1 ? 0 : st[j];
            }
            strides[k + 1] = s;
        }

        // Drop size-1 dimensions, then merge dimension i into i+1 when every operand steps evenly across them.
        var dims = new List<int>(rank);
        var keep = new List<int[]>();
        for (int i = 0; i < rank; i++)
        {
            if (outShape[i] == 1) continue;
            dims.Add(outShape[i]);
            var col = new int[operands];
            for (int k = 0; k < operands; k++) col[k] = strides[k][i];
            keep.Add(col);
        }
        for (int i = dims.Count - 2; i >= 0; i--)
        {
            bool merge = true;
            for (int k = 0; k < operands && merge; k++)
                merge = keep[i][k] == keep[i + 1][k] * dims[i + 1];
            if (!merge) continue;
            dims[i] *= dims[i + 1];
            keep[i] = keep[i + 1];
            dims.RemoveAt(i + 1);
            keep.RemoveAt(i + 1);
        }
        var shapeOut = dims.ToArray();
        var stridesOut = new int[operands][];
        for (int k = 0; k < operands; k++)
        {
            stridesOut[k] = new int[shapeOut.Length];
            for (int i = 0; i < shapeOut.Length; i++) stridesOut[k][i] = keep[i][k];
        }
        return new StridedLayout(shapeOut, stridesOut);
    }

    /// <summary>Number of rows (the product of all but the last dimension).</summary>
    internal int RowCount
    {
        get
        {
            int n = 1;
            for (int i = 0; i < Shape.Length - 1; i++) n *= Shape[i];
            return n;
        }
    }

    /// <summary>Length of a row (the last dimension; 1 for a scalar).</summary>
    internal int RowLength => Shape.Length == 0 ? 1 : Shape[^1];

    /// <summary>Stride of operand <paramref name="operand"/> along a row.</summary>
    internal int RowStride(int operand) => Shape.Length == 0 ? 1 : Strides[operand][^1];

    /// <summary>Element offset of operand <paramref name="operand"/> at the start of row <paramref name="row"/>.</summary>
    internal int RowOffset(int operand, int row)
    {
        int offset = 0;
        var st = Strides[operand];
        for (int i = Shape.Length - 2; i >= 0 && row > 0; i--)
        {
            int d = Shape[i];
            offset += row % d * st[i];
            row /= d;
        }
        return offset;
    }
}
