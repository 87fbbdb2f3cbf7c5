using System.Numerics;
using System.Numerics.Tensors;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// Gather, scatter-add, index-select and index-add with int64 indices. Every index is checked against
/// the size of the indexed dimension before it is used; a kernel that meets a bad one stops and
/// returns false with its value, so the caller can raise an error that names the op (no memory outside
/// the tensors is ever touched). Accumulation runs in index order, so results repeat bit for bit.
/// </summary>
internal static unsafe class IndexKernel
{
    /// <summary>
    /// output[p] = input[p with p[dim] replaced by index[p]] for every position p of the index's shape.
    /// Shapes and strides all have the index's rank (at least 1); <paramref name="output"/> is contiguous.
    /// </summary>
    internal static bool Gather<T>(T* input, ReadOnlySpan<int> inputStrides, int dimSize,
        long* index, ReadOnlySpan<int> indexShape, ReadOnlySpan<int> indexStrides,
        T* output, int dim, out long badIndex) where T : unmanaged
    {
        badIndex = 0;
        var rows = new Rows(indexShape, indexStrides, inputStrides, dim);
        if (rows.Count == 0) return true;
        int inner = indexShape[^1];
        nint innerIndex = indexStrides[^1];
        nint innerInput = indexShape.Length - 1 == dim ? 0 : inputStrides[^1];
        nint dimStride = inputStrides[dim];
        for (long r = 0; r < rows.Count; r++, rows.Next())
        {
            long* ip = index + rows.IndexOffset;
            T* xp = input + rows.DataOffset;
            for (int j = 0; j < inner; j++)
            {
                long k = ip[j * innerIndex];
                if ((ulong)k >= (ulong)dimSize) { badIndex = k; return false; }
                *output++ = xp[j * innerInput + (nint)k * dimStride];
            }
        }
        return true;
    }

    /// <summary>
    /// output[p with p[dim] replaced by index[p]] += source[p] for every position p of the index's shape,
    /// in row-major order of p. Shapes and strides all have the index's rank (at least 1).
    /// </summary>
    internal static bool ScatterAdd<T>(T* output, ReadOnlySpan<int> outputStrides, int dimSize,
        long* index, ReadOnlySpan<int> indexShape, ReadOnlySpan<int> indexStrides,
        T* source, ReadOnlySpan<int> sourceStrides, int dim, out long badIndex) where T : unmanaged, INumber<T>
    {
        badIndex = 0;
        var rows = new Rows(indexShape, indexStrides, outputStrides, dim, sourceStrides);
        if (rows.Count == 0) return true;
        int inner = indexShape[^1];
        nint innerIndex = indexStrides[^1];
        nint innerOutput = indexShape.Length - 1 == dim ? 0 : outputStrides[^1];
        nint innerSource = sourceStrides[^1];
        nint dimStride = outputStrides[dim];
        for (long r = 0; r < rows.Count; r++, rows.Next())
        {
            long* ip = index + rows.IndexOffset;
            T* op = output + rows.DataOffset;
            T* sp = source + rows.SourceOffset;
            for (int j = 0; j < inner; j++)
            {
                long k = ip[j * innerIndex];
                if ((ulong)k >= (ulong)dimSize) { badIndex = k; return false; }
                op[j * innerOutput + (nint)k * dimStride] += sp[j * innerSource];
            }
        }
        return true;
    }

    /// <summary>
    /// Copies rows of a contiguous [outer, dimSize, inner] input: output[o, j, :] = input[o, index[j], :],
    /// output contiguous [outer, count, inner]; <paramref name="innerBytes"/> is inner times the element size.
    /// </summary>
    internal static bool IndexSelect(byte* input, int outer, int dimSize, long innerBytes,
        long* index, nint indexStride, int count, byte* output, out long badIndex)
    {
        if (!CheckIndices(index, indexStride, count, dimSize, out badIndex)) return false;
        for (int o = 0; o < outer; o++)
        {
            byte* from = input + o * (nint)dimSize * (nint)innerBytes;
            byte* to = output + o * (nint)count * (nint)innerBytes;
            for (int j = 0; j < count; j++)
            {
                long k = index[j * indexStride];
                Buffer.MemoryCopy(from + (nint)k * (nint)innerBytes, to + j * (nint)innerBytes, innerBytes, innerBytes);
            }
        }
        return true;
    }

    /// <summary>
    /// Adds rows of a contiguous [outer, count, inner] source into a contiguous [outer, dimSize, inner]
    /// output: output[o, index[j], :] += source[o, j, :], j in increasing order.
    /// </summary>
    internal static bool IndexAdd<T>(T* output, int outer, int dimSize, int inner,
        long* index, nint indexStride, int count, T* source, out long badIndex) where T : unmanaged, INumber<T>
    {
        if (!CheckIndices(index, indexStride, count, dimSize, out badIndex)) return false;
        for (int o = 0; o < outer; o++)
        {
            T* to = output + o * (nint)dimSize * inner;
            T* from = source + o * (nint)count * inner;
            for (int j = 0; j < count; j++)
            {
                var row = new Span<T>(to + (nint)index[j * indexStride] * inner, inner);
                TensorPrimitives.Add(row, new ReadOnlySpan<T>(from + (nint)j * inner, inner), row);
            }
        }
        return true;
    }

    private static bool CheckIndices(long* index, nint stride, int count, int dimSize, out long badIndex)
    {
        for (int j = 0; j < count; j++)
        {
            long k = index[j * stride];
            if ((ulong)k >= (ulong)dimSize) { badIndex = k; return false; }
        }
        badIndex = 0;
        return true;
    }

    /// <summary>
    /// Walks the rows (every dimension but the last) of the index's shape, keeping the element offset of
    /// the row's start in the index, in the indexed tensor (whose <c>dim</c> coordinate comes from the
    /// index values, so it is left out) and optionally in a source tensor.
    /// </summary>
    private ref struct Rows
    {
        private readonly ReadOnlySpan<int> _shape, _indexStrides, _dataStrides, _sourceStrides;
        private readonly int _dim;
        private Span<int> _position;

        internal readonly long Count;
        internal nint IndexOffset, DataOffset, SourceOffset;

        internal Rows(ReadOnlySpan<int> shape, ReadOnlySpan<int> indexStrides, ReadOnlySpan<int> dataStrides, int dim,
            ReadOnlySpan<int> sourceStrides = default)
        {
            _shape = shape;
            _indexStrides = indexStrides;
            _dataStrides = dataStrides;
            _sourceStrides = sourceStrides;
            _dim = dim;
            long n = 1;
            for (int d = 0; d < shape.Length - 1; d++) n *= shape[d];
            Count = shape[^1] == 0 ? 0 : n;
            _position = new int[Math.Max(shape.Length - 1, 0)];
        }

        internal void Next()
        {
            for (int d = _shape.Length - 2; d >= 0; d--)
            {
                _position[d]++;
                IndexOffset += _indexStrides[d];
                if (d != _dim) DataOffset += _dataStrides[d];
                if (!_sourceStrides.IsEmpty) SourceOffset += _sourceStrides[d];
                if (_position[d] < _shape[d]) return;
                int back = _shape[d];
                IndexOffset -= (nint)_indexStrides[d] * back;
                if (d != _dim) DataOffset -= (nint)_dataStrides[d] * back;
                if (!_sourceStrides.IsEmpty) SourceOffset -= (nint)_sourceStrides[d] * back;
                _position[d] = 0;
            }
        }
    }
}
