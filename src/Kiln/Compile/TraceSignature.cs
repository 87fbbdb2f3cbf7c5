using System.Text;

namespace Kiln.Compile;

/// <summary>
/// What a trace depended on besides the code: each input's dtype, shape and layout (row-major, or its
/// exact strides), whether gradients were on, and a compiled module's training mode. A call whose
/// signature matches replays the graph; any other call traces again. Matching allocates nothing. A
/// graph loaded from a file matches row-major inputs of its input specs in either grad mode.
/// </summary>
internal sealed class TraceSignature
{
    private readonly DType[] _dtypes;
    private readonly int[][] _shapes;
    // Null where the input was row-major; a strided input's exact strides otherwise (views in the graph depend on them).
    private readonly int[]?[] _strides;
    // Null for a loaded graph: no code runs, so the grad mode changes nothing.
    private readonly bool? _gradEnabled;
    private readonly bool _training;

    private TraceSignature(DType[] dtypes, int[][] shapes, int[]?[] strides, bool? gradEnabled, bool training)
    {
        (_dtypes, _shapes, _strides, _gradEnabled, _training) = (dtypes, shapes, strides, gradEnabled, training);
    }

    internal static TraceSignature Of(ReadOnlySpan<Tensor> inputs, bool gradEnabled, bool training)
    {
        var dtypes = new DType[inputs.Length];
        var shapes = new int[inputs.Length][];
        var strides = new int[]?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            dtypes[i] = inputs[i].DType;
            shapes[i] = inputs[i].ShapeArray; // shape arrays never change
            strides[i] = Graph.IsRowMajor(inputs[i]) ? null : inputs[i].Strides;
        }
        return new TraceSignature(dtypes, shapes, strides, gradEnabled, training);
    }

    /// <summary>The signature of a graph loaded from a file: row-major inputs of <paramref name="inputs"/>' specs, either grad mode.</summary>
    internal static TraceSignature Loaded(IReadOnlyList<GraphValue> inputs)
    {
        var dtypes = new DType[inputs.Count];
        var shapes = new int[inputs.Count][];
        for (int i = 0; i < inputs.Count; i++)
        {
            dtypes[i] = inputs[i].Spec.DType;
            shapes[i] = inputs[i].Spec.Shape.ToArray();
        }
        return new TraceSignature(dtypes, shapes, new int[]?[inputs.Count], gradEnabled: null, training: false);
    }

    /// <summary>True for the signature of a graph loaded from a file (either grad mode matches).</summary>
    internal bool IsLoaded => _gradEnabled is null;

    internal bool Matches(ReadOnlySpan<Tensor> inputs, bool gradEnabled, bool training)
    {
        if (inputs.Length != _dtypes.Length || (_gradEnabled is { } grad && grad != gradEnabled) || training != _training) return false;
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i];
            if (t.DType != _dtypes[i]) return false;
            if (!ReferenceEquals(t.ShapeArray, _shapes[i]) && !t.ShapeArray.AsSpan().SequenceEqual(_shapes[i])) return false;
            if (_strides[i] is { } strides ? !t.StridesArray.AsSpan().SequenceEqual(strides) : !Graph.IsRowMajor(t)) return false;
        }
        return true;
    }

    /// <summary>Whether <paramref name="inputs"/> match except in dimension 0 (the batch): row-major inputs of the same ranks and other dimensions.</summary>
    internal bool MatchesExceptBatch(ReadOnlySpan<Tensor> inputs, bool gradEnabled, bool training)
    {
        if (inputs.Length != _dtypes.Length || (_gradEnabled is { } grad && grad != gradEnabled) || training != _training) return false;
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i];
            var shape = t.ShapeArray;
            if (t.DType != _dtypes[i] || shape.Length != _shapes[i].Length || shape.Length == 0) return false;
            if (!shape.AsSpan(1).SequenceEqual(_shapes[i].AsSpan(1))) return false;
            if (_strides[i] is not null || !Graph.IsRowMajor(t)) return false;
        }
        return true;
    }

    public override string ToString()
    {
        var text = new StringBuilder("(");
        for (int i = 0; i < _dtypes.Length; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(GraphPrinter.Spec(new Ops.TensorSpec(Shape.Wrap(_shapes[i]), _dtypes[i])));
            if (_strides[i] is { } s) text.Append(" strides ").Append(Shape.Format(s));
        }
        text.Append(") grad ").Append(_gradEnabled switch { true => "on", false => "off", null => "on or off" });
        if (_training) text.Append(", training");
        return text.ToString();
    }
}
