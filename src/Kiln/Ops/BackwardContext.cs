namespace Kiln.Ops;

/// <summary>What an op's backward sees: the output's gradient, the saved inputs and output, and which inputs need a gradient.</summary>
internal sealed class BackwardContext
{
    private readonly Tensor[] _inputs;
    private readonly Tensor? _output;

    internal BackwardContext(OpNode node, Tensor grad)
    {
        Node = node;
        Grad = grad;
        _inputs = node.SavedInputs;
        _output = node.SavedOutput;
    }

    internal OpNode Node { get; }

    /// <summary>Gradient of the loss with respect to the op's output.</summary>
    internal Tensor Grad { get; }

    internal OpAttributes Attributes => Node.Attributes;

    internal ReadOnlySpan<Tensor> Inputs => _inputs;

    internal Tensor Input(int i) => _inputs[i];

    /// <summary>The op's output; only for ops that declare <see cref="OpDef.BackwardReadsOutput"/>.</summary>
    internal Tensor Output => _output ?? throw new InvalidOperationException($"{Node.Op.Name} did not save its output");

    /// <summary>True when input <paramref name="i"/> takes part in the gradient computation.</summary>
    internal bool NeedsGrad(int i) => Node.NeedsInputGrad[i];
}
