using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// Runs one fused elementwise node tile by tile. The result's shape is cut along one axis into tiles
/// of about <see cref="TileElements"/> elements (whole rows of the dimensions after that axis; the
/// dimensions before it are walked one index at a time). For each tile every step calls its op's own
/// kernel (<see cref="OpDef.ForwardUntyped"/>) on views of the inputs for that tile, writing into
/// small scratch tensors, and the last step writes the tile of the result. Broadcast inputs keep
/// their size-1 dimensions in the tile views, so each op sees the same broadcasting it sees unfused,
/// and every element goes through the same kernel: the results are the unfused graph's bit for bit.
/// <para>
/// Everything is made once: the scratch buffers (shared between steps whose results are not live at
/// once), the view tensors (two sets: full tiles and the last, longer tile of each row) and the
/// argument arrays. A call re-aims the views at the call's tensors, so it allocates nothing. Views
/// let go of the call's tensors' memory at the end of the call (<see cref="Release"/>).
/// </para>
/// </summary>
internal sealed class FusedElementwiseRunner : IDisposable
{
    /// <summary>The target elements in one tile: a few of these scratch tiles stay in a 32 KiB L1.</summary>
    internal const int TileElements = 2048;

    /// <summary>Tiles start and end on multiples of this many elements (one 512-bit vector of bytes, four of floats), except at the end of a row of the split axis.</summary>
    internal const int Granule = 64;

    /// <summary>Tiles this large or larger are not worth cutting further: the trailing dimensions a tile covers whole may not exceed it.</summary>
    private const int MaxTileElements = 4 * TileElements;

    private readonly FusedElementwiseAttributes _attributes;
    private readonly TensorSpec[] _inputSpecs;
    private readonly int[] _shape;
    private readonly int _axis;
    private readonly int _rows;
    private readonly int _chunks;
    private readonly int _lastRows;
    private readonly long _outerCount;
    private readonly int[] _outerIndex;
    // Per tile kind (0: full tile, 1: last tile of a row): the views of the inputs and of the result, made at the first call.
    private readonly Tensor?[][] _inputViews = new Tensor?[2][];
    private readonly Tensor?[] _outputViews = new Tensor?[2];
    // Per tile kind: each step's result tensor (a scratch tensor, or the result's view for the last step) and its argument array.
    private readonly Tensor[][] _stepOutputs = new Tensor[2][];
    private readonly Tensor[][][] _stepArguments = new Tensor[2][][];
    private readonly Tensor[][] _scratch = new Tensor[2][];
    private readonly List<Tensor> _buffers = new();
    private bool _bound;

    internal FusedElementwiseRunner(FusedElementwiseAttributes attributes, TensorSpec[] inputSpecs)
    {
        _attributes = attributes;
        _inputSpecs = inputSpecs;
        _shape = attributes.Steps[^1].Spec.Shape.ToArray();
        int rank = _shape.Length;
        (_axis, _rows) = Plan(_shape);
        int length = rank > 0 ? _shape[_axis] : 1;
        _chunks = Math.Max(1, length / Math.Max(_rows, 1));
        _lastRows = length - (_chunks - 1) * _rows;
        _outerCount = 1;
        for (int d = 0; d < _axis && d < rank; d++) _outerCount *= _shape[d];
        _outerIndex = new int[Math.Max(_axis, 0)];
        MakeScratch();
    }

    /// <summary>
    /// The split axis and the rows of it a tile covers. Kernels handle a span's last partial vector
    /// (and very short spans) differently from its body, so a tile must cut the flat element order
    /// where the unfused kernel's vectors are cut: every tile starts on a multiple of <see cref="Granule"/>
    /// elements and every tile but the last of its row is a whole number of granules long, and a tile
    /// covers whole rows of the trailing dimensions (where a broadcast kernel goes row by row). The
    /// axis is the deepest one whose trailing block fits <see cref="MaxTileElements"/> and whose
    /// rows, taken together, start on granules; with none, the whole tensor is one tile.
    /// </summary>
    private static (int Axis, int Rows) Plan(int[] shape)
    {
        int rank = shape.Length;
        if (rank == 0) return (0, 1);
        int chosen = -1;
        long inner = 1;
        for (int a = rank - 1; a >= 0; inner *= shape[a], a--)
        {
            if (inner > MaxTileElements) break;
            long block = inner * shape[a];
            if (a > 0 && block % Granule != 0) continue;
            chosen = a;
            if (block >= TileElements) break;
        }
        if (chosen < 0) return (0, shape[0]);
        long trailing = 1;
        for (int d = chosen + 1; d < rank; d++) trailing *= shape[d];
        if (trailing == 0) return (chosen, Math.Max(shape[chosen], 1));
        long step = Granule / (long)GreatestCommonDivisor(trailing % Granule == 0 ? Granule : trailing % Granule, Granule);
        long rows = step * Math.Max(1, (TileElements + step * trailing - 1) / (step * trailing));
        return (chosen, (int)Math.Min(rows, Math.Max(shape[chosen], 1)));
    }

    private static long GreatestCommonDivisor(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    private int[] TileShape(bool last)
    {
        int rank = _shape.Length;
        if (rank == 0) return [];
        var dims = new int[rank - _axis];
        for (int j = 0; j < dims.Length; j++) dims[j] = _shape[_axis + j];
        dims[0] = last ? _lastRows : _rows;
        return dims;
    }

    /// <summary>Scratch for every step but the last, a buffer reused once the step that last reads it is done.</summary>
    private void MakeScratch()
    {
        var steps = _attributes.Steps;
        int inputs = _attributes.InputCount;
        var lastRead = new int[steps.Count];
        for (int s = 0; s < steps.Count; s++)
            foreach (var operand in steps[s].Operands.AsSpan())
                if (operand >= inputs) lastRead[operand - inputs] = s;
        var full = TileShape(last: false);
        var longest = TileShape(last: true);
        long elements = 1;
        foreach (var d in longest) elements *= d;
        var free = new List<Tensor>();
        var bufferOf = new Tensor?[steps.Count];
        for (int kind = 0; kind < 2; kind++) _scratch[kind] = new Tensor[steps.Count];
        for (int s = 0; s < steps.Count - 1; s++)
        {
            var dtype = steps[s].Spec.DType;
            long bytes = Math.Max(elements, 1) * dtype.ElementSize();
            var buffer = free.Find(b => b.NumElements >= bytes);
            if (buffer is not null) free.Remove(buffer);
            else
            {
                buffer = Tensor.Empty([(int)bytes], DType.UInt8).DetachFromScope();
                _buffers.Add(buffer);
            }
            bufferOf[s] = buffer;
            _scratch[0][s] = View(buffer, dtype, full);
            _scratch[1][s] = View(buffer, dtype, longest);
            // Results read for the last time by this step free their buffers for the steps after it.
            for (int r = 0; r < s; r++)
                if (lastRead[r] == s && bufferOf[r] is { } done) free.Add(done);
        }
    }

    /// <summary>A contiguous <paramref name="dtype"/> view of <paramref name="shape"/> at the start of a byte buffer.</summary>
    private Tensor View(Tensor buffer, DType dtype, int[] shape)
    {
        var storage = buffer.LiveStorage;
        storage.AddRef();
        var view = new Tensor(storage, shape, Shape.ContiguousStrides(shape), 0, dtype).DetachFromScope();
        _buffers.Add(view);
        return view;
    }

    /// <summary>Computes the chain on <paramref name="inputs"/> into <paramref name="output"/> (the result's shape; any layout).</summary>
    internal void Run(ReadOnlySpan<Tensor> inputs, Tensor output)
    {
        if (output.NumElements == 0) return;
        if (!_bound) Bind(inputs, output);
        var steps = _attributes.Steps;
        Array.Clear(_outerIndex);
        try
        {
            for (long outer = 0; outer < _outerCount; outer++)
            {
                for (int chunk = 0; chunk < _chunks; chunk++)
                {
                    int kind = chunk == _chunks - 1 && _lastRows != _rows ? 1 : 0;
                    int start = chunk * _rows;
                    var views = _inputViews[kind];
                    for (int i = 0; i < views.Length; i++)
                        views[i]!.RebindView(inputs[i], Offset(inputs[i], _inputSpecs[i].Shape.Rank, start));
                    _outputViews[kind]!.RebindView(output, Offset(output, _shape.Length, start));
                    var arguments = _stepArguments[kind];
                    var results = _stepOutputs[kind];
                    for (int s = 0; s < steps.Count; s++)
                        steps[s].Op.ForwardUntyped(arguments[s], steps[s].Attributes, results[s]);
                }
                Advance();
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>The element offset, in <paramref name="tensor"/>, of the tile at the current outer index and row <paramref name="start"/> of the split axis.</summary>
    private int Offset(Tensor tensor, int rank, int start)
    {
        int lead = _shape.Length - rank;
        var strides = tensor.StridesArray;
        var dims = tensor.ShapeArray;
        long offset = tensor.OffsetElements;
        for (int d = Math.Max(lead, 0); d < _shape.Length && d <= _axis; d++)
        {
            int own = dims[d - lead];
            if (own == 1) continue;
            int index = d == _axis ? start : _outerIndex[d];
            offset += (long)index * strides[d - lead];
        }
        return (int)offset;
    }

    /// <summary>Steps the index over the dimensions before the split axis (row-major).</summary>
    private void Advance()
    {
        for (int d = _outerIndex.Length - 1; d >= 0; d--)
        {
            if (++_outerIndex[d] < _shape[d]) return;
            _outerIndex[d] = 0;
        }
    }

    /// <summary>Makes the tile views of the inputs and the result (their strides are those of this call's tensors, the same at every call) and the steps' argument arrays.</summary>
    private void Bind(ReadOnlySpan<Tensor> inputs, Tensor output)
    {
        var steps = _attributes.Steps;
        int count = _attributes.InputCount;
        for (int kind = 0; kind < 2; kind++)
        {
            var tile = TileShape(last: kind == 1);
            var views = new Tensor?[count];
            for (int i = 0; i < count; i++) views[i] = TileView(inputs[i], tile);
            _inputViews[kind] = views;
            _outputViews[kind] = TileView(output, tile);
            var results = new Tensor[steps.Count];
            var arguments = new Tensor[steps.Count][];
            for (int s = 0; s < steps.Count; s++)
            {
                results[s] = s == steps.Count - 1 ? _outputViews[kind]! : _scratch[kind][s];
                var operands = steps[s].Operands.AsSpan();
                arguments[s] = new Tensor[operands.Length];
                for (int k = 0; k < operands.Length; k++)
                    arguments[s][k] = operands[k] < count ? views[operands[k]]! : results[operands[k] - count];
            }
            _stepOutputs[kind] = results;
            _stepArguments[kind] = arguments;
        }
        _bound = true;
    }

    /// <summary>
    /// A view of <paramref name="source"/> over one tile: its dimensions from the split axis on
    /// (right-aligned as broadcasting aligns them), each the tile's size or 1 where the source broadcasts.
    /// </summary>
    private Tensor TileView(Tensor source, int[] tile)
    {
        int rank = source.Rank;
        int viewRank = Math.Min(rank, tile.Length);
        var dims = new int[viewRank];
        var strides = new int[viewRank];
        for (int j = 0; j < viewRank; j++)
        {
            int own = source.ShapeArray[rank - viewRank + j];
            dims[j] = own == 1 ? 1 : tile[tile.Length - viewRank + j];
            strides[j] = source.StridesArray[rank - viewRank + j];
        }
        var view = source.AsStrided(dims, strides, source.OffsetElements).DetachFromScope();
        view.Dispose(); // holds no memory between calls; each tile re-aims it
        return view;
    }

    /// <summary>Lets go of the memory of this call's tensors that the views point into.</summary>
    private void Release()
    {
        for (int kind = 0; kind < 2; kind++)
        {
            if (_inputViews[kind] is { } views)
                foreach (var v in views) v?.Dispose();
            _outputViews[kind]?.Dispose();
        }
    }

    public void Dispose()
    {
        Release();
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
