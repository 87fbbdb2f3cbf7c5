namespace Kiln.Compile;

/// <summary>
/// Turns every parameter into a constant holding a copy of its value now, for graphs compiled with
/// <see cref="CompileOptions.FreezeParameters"/>: later changes to the module's weights are not seen,
/// and passes may compute with the weights at compile time (constant folding, batch-norm folding).
/// </summary>
internal sealed class FreezeParameters : GraphPass
{
    internal override string Name => nameof(FreezeParameters);

    internal override bool Run(Graph graph)
    {
        if (graph.Parameters.Count == 0) return false;
        var replaced = NewReplacementMap();
        foreach (var p in graph.Parameters)
        {
            var copy = Tensor.Empty(p.Data!.ShapeArray, p.Data.DType).DetachFromScope();
            Ops.Dispatcher.CopyInto(p.Data, copy);
            replaced[p] = graph.AddConstant(copy, p.Name);
        }
        graph.Parameters.Clear();
        ApplyReplacements(graph, replaced);
        return true;
    }
}
