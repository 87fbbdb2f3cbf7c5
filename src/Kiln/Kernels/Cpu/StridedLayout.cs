using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The iteration space of an elementwise kernel: one shape and, per operand, strides in elements
/// (0 on broadcast dimensions). Dimensions of size 1 are dropped and adjacent dimensions that are
/// contiguous in every operand are merged, so most loops see one long contiguous row. A value type
/// whose numbers live inline up to <see cref="InlineCapacity"/> ints (rank 9 for a binary op), so
/// building one per op call allocates nothing; larger layouts keep them in one array.
/// </summary>
internal struct StridedLayout
{
    private const int InlineCapacity = 40;

    // Numbers stored as (operands + 1) blocks of _capacity ints: the shape, then each operand's strides.
    private Ints _inline;
    private int[]? _heap;
    private int _capacity;
    private int _rank;
    private int _operands;

    [InlineArray(InlineCapacity)]
    private struct Ints
    {
        private int _element;
    }

    /// <summary>Number of dimensions after coalescing.</summary>
    internal readonly int Rank => _rank;

    /// <summary>Number of operands: the output and each input.</summary>
    internal readonly int OperandCount => _operands;

    /// <summary>The coalesced shape.</summary>
    [UnscopedRef]
    internal readonly ReadOnlySpan<int> Shape => Numbers[.._rank];

    /// <summary>The coalesced strides of operand <paramref name="operand"/> (0 = the output).</summary>
    [UnscopedRef]
    internal readonly ReadOnlySpan<int> Strides(int operand) => Numbers.Slice((operand + 1) * _capacity, _rank);

    [UnscopedRef]
    private readonly ReadOnlySpan<int> Numbers
    {
        get
        {
            if (_heap is not null) return _heap;
            return _inline;
        }
    }

    /// <summary>
    /// Builds the coalesced layout for an output of <paramref name="outShape"/>; each operand's shape must
    /// broadcast to it (right-aligned).
    /// </summary>
    internal static StridedLayout Create(ReadOnlySpan<int> outShape, ReadOnlySpan<int> outStrides, params ReadOnlySpan<(int[] Shape, int[] Strides)> inputs)
    {
        var layout = new StridedLayout();
        layout.Build(outShape, outStrides, inputs);
        return layout;
    }

    private void Build(ReadOnlySpan<int> outShape, ReadOnlySpan<int> outStrides, ReadOnlySpan<(int[] Shape, int[] Strides)> inputs)
    {
        int rank = outShape.Length;
        int operands = inputs.Length + 1;
        int size = (operands + 1) * rank;
        _capacity = rank;
        _operands = operands;
        if (size > InlineCapacity) _heap = new int[size];
        Span<int> numbers = _heap is null ? _inline : _heap;

        // Size-1 dimensions are dropped; a dimension joins the one kept before it when every operand
        // steps evenly across the two (the kept one's stride is this one's stride times its size).
        int kept = 0;
        for (int i = 0; i < rank; i++)
        {
            int d = outShape[i];
            if (d == 1) continue;
            bool merge = kept > 0;
            for (int k = 0; k < operands && merge; k++)
                merge = numbers[(k + 1) * rank + kept - 1] == StrideOf(k, i, rank, outStrides, inputs) * d;
            int at = merge ? kept - 1 : kept;
            numbers[at] = merge ? numbers[at] * d : d;
            for (int k = 0; k < operands; k++)
                numbers[(k + 1) * rank + at] = StrideOf(k, i, rank, outStrides, inputs);
            if (!merge) kept++;
        }
        _rank = kept;
    }

    // Operand k's stride along output dimension i: 0 where the operand is broadcast (missing or of size 1).
    private static int StrideOf(int k, int i, int rank, ReadOnlySpan<int> outStrides, ReadOnlySpan<(int[] Shape, int[] Strides)> inputs)
    {
        if (k == 0) return outStrides[i];
        var (shape, strides) = inputs[k - 1];
        int j = i - (rank - shape.Length);
        return j < 0 || shape[j] == 1 ? 0 : strides[j];
    }

    /// <summary>Number of rows (the product of all but the last dimension).</summary>
    internal readonly int RowCount
    {
        get
        {
            var shape = Shape;
            int n = 1;
            for (int i = 0; i < shape.Length - 1; i++) n *= shape[i];
            return n;
        }
    }

    /// <summary>Length of a row (the last dimension; 1 for a scalar).</summary>
    internal readonly int RowLength => _rank == 0 ? 1 : Shape[_rank - 1];

    /// <summary>Stride of operand <paramref name="operand"/> along a row.</summary>
    internal readonly int RowStride(int operand) => _rank == 0 ? 1 : Strides(operand)[_rank - 1];

    /// <summary>Element offset of operand <paramref name="operand"/> at the start of row <paramref name="row"/>.</summary>
    internal readonly int RowOffset(int operand, int row)
    {
        var numbers = Numbers;
        int strides = (operand + 1) * _capacity;
        int offset = 0;
        for (int i = _rank - 2; i > 0 && row > 0; i--)
        {
            int d = numbers[i];
            offset += row % d * numbers[strides + i];
            row /= d;
        }
        // What is left of the row index is below the outermost size: no division for it (none at all for two dimensions).
        if (_rank >= 2) offset += row * numbers[strides];
        return offset;
    }
}
