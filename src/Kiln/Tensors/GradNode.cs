namespace Kiln;

/// <summary>
/// A node of the autograd graph: how to turn the gradient of one output into gradients of the inputs.
/// Declared here (tensors layer) so a tensor can point at the op that made it; the ops layer makes
/// the concrete nodes and the autograd layer walks them.
/// </summary>
internal abstract class GradNode
{
    /// <summary>The inputs, whose gradients <see cref="Apply"/> returns in the same order.</summary>
    internal abstract ReadOnlySpan<Tensor> Inputs { get; }

    /// <summary>
    /// For each input: the node its gradient flows into (null for a leaf) and whether it needs a gradient,
    /// both fixed when the op ran. An in-place op later gives the input tensor a new history; the edges
    /// recorded here keep pointing at the history the op actually saw.
    /// </summary>
    internal GradNode?[] NextNodes = [];
    internal bool[] NeedsInputGrad = [];

    protected void RecordEdges(ReadOnlySpan<Tensor> inputs)
    {
        NextNodes = new GradNode?[inputs.Length];
        NeedsInputGrad = new bool[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            NextNodes[i] = inputs[i].GradFn;
            NeedsInputGrad[i] = inputs[i].RequiresGrad;
        }
    }

    /// <summary>Name shown in errors and <see cref="Tensor.ToString()"/>: "MulBackward".</summary>
    internal abstract string Name { get; }

    /// <summary>Gradients of the inputs given the output's gradient; null where an input needs none.</summary>
    internal abstract Tensor?[] Apply(Tensor outputGrad);

    /// <summary>Drops the tensors saved for backward (after a backward pass without retainGraph).</summary>
    internal abstract void ReleaseSaved();

    /// <summary>The non-leaf tensor this node produced when it asked to keep its gradient.</summary>
    internal Tensor? RetainedOutput;

    /// <summary>Gradient hooks registered on the output tensor.</summary>
    internal List<Func<Tensor, Tensor?>>? Hooks;

    /// <summary>Creation order, for a deterministic traversal.</summary>
    internal long Sequence = Interlocked.Increment(ref _sequence);
    private static long _sequence;
}
