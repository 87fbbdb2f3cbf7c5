namespace Kiln;

/// <summary>
/// One entry of a tensor index, as in <c>x[0, .., 1..^1]</c>: an integer or <see cref="Index"/> selects
/// one position and drops the dimension, a <see cref="Range"/> or <see cref="Slice"/> keeps a part of it,
/// <see cref="Ellipsis"/> stands for all the dimensions not named, and <see cref="NewAxis"/> inserts a
/// dimension of size 1. Every form gives a view; no data is copied.
/// </summary>
public readonly struct TensorIndex
{
    internal enum IndexKind : byte { Single, Range, Ellipsis, NewAxis }

    internal IndexKind Kind { get; }
    internal Index Position { get; }
    internal int? Start { get; }
    internal int? End { get; }
    internal int Step { get; }

    private TensorIndex(IndexKind kind, Index position = default, int? start = null, int? end = null, int step = 1)
    {
        Kind = kind;
        Position = position;
        Start = start;
        End = end;
        Step = step;
    }

    /// <summary>All the dimensions the other entries do not name (Python's <c>...</c>); at most one per index.</summary>
    public static TensorIndex Ellipsis { get; } = new(IndexKind.Ellipsis);

    /// <summary>A new dimension of size 1 at this place (Python's <c>None</c>).</summary>
    public static TensorIndex NewAxis { get; } = new(IndexKind.NewAxis);

    /// <summary>
    /// Python's <c>start:end:step</c>: negative bounds count from the end, null means the start or end
    /// of the dimension, bounds past either end are clamped; <paramref name="step"/> must be positive.
    /// </summary>
    public static TensorIndex Slice(int? start = null, int? end = null, int step = 1)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "the step of a tensor slice must be positive");
        return new(IndexKind.Range, start: start, end: end, step: step);
    }

    /// <summary>One position (negative counts from the end); the dimension is dropped.</summary>
    public static implicit operator TensorIndex(int index) => new(IndexKind.Single, index < 0 ? Index.FromEnd(-index) : Index.FromStart(index));

    /// <summary>One position (<c>^1</c> is the last); the dimension is dropped.</summary>
    public static implicit operator TensorIndex(Index index) => new(IndexKind.Single, index);

    /// <summary>A part of the dimension, kept; bounds past either end are clamped as in PyTorch.</summary>
    public static implicit operator TensorIndex(Range range) => new(
        IndexKind.Range,
        start: range.Start.IsFromEnd ? (range.Start.Value == 0 ? int.MaxValue : -range.Start.Value) : range.Start.Value,
        end: range.End.IsFromEnd ? (range.End.Value == 0 ? null : -range.End.Value) : range.End.Value);

    /// <summary>Prints as Python would write the entry: 2, -1, 1:3, ::2, ..., None.</summary>
    public override string ToString() => Kind switch
    {
        IndexKind.Single => Position.IsFromEnd ? $"-{Position.Value}" : Position.Value.ToString(),
        IndexKind.Ellipsis => "...",
        IndexKind.NewAxis => "None",
        _ => $"{(Start == int.MaxValue ? "^0" : Start)}:{End}{(Step == 1 ? "" : $":{Step}")}",
    };
}
