namespace Kiln.Ops;

/// <summary>
/// What the dispatcher and the tensor façade tell a tracer (Kiln.Compile) while it captures a graph.
/// Ops cannot reference the compiler (it is a layer above), so the compiler installs an implementation
/// through <see cref="TraceRecorder"/> and the layers below only ever call this interface.
/// </summary>
internal interface ITraceRecorder
{
    /// <summary>An op ran out of place and returned <paramref name="output"/> (a new tensor or a view).</summary>
    void RecordCall(OpDef op, OpAttributes attributes, ReadOnlySpan<Tensor> inputs, Tensor output);

    /// <summary>
    /// An op is about to write its result into <paramref name="target"/>. Called before the write, so
    /// a recorder that refuses (the target is a graph input or a parameter) leaves the tensor unchanged.
    /// </summary>
    void RecordInPlace(OpDef op, OpAttributes attributes, Tensor target, ReadOnlySpan<Tensor> inputs);

    /// <summary><paramref name="what"/> (Item(), ToArray) is about to read <paramref name="tensor"/>'s values into C#.</summary>
    void ReadingValues(Tensor tensor, string what);

    /// <summary><paramref name="what"/> is about to write into <paramref name="tensor"/> without an op (index assignment).</summary>
    void WritingUntracked(Tensor tensor, string what);

    /// <summary><paramref name="what"/> (Rand, Randn, ...) is about to draw from the random stream.</summary>
    void DrawingRandom(string what);

    /// <summary>
    /// A draw the recorder allowed has filled <paramref name="result"/>: recorded as a node of
    /// <paramref name="op"/> (a <see cref="OpDef.IsRandom"/> op that draws again at every replay).
    /// </summary>
    void RecordRandom(OpDef op, OpAttributes attributes, Tensor result);
}
