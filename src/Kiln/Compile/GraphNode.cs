using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// One op application in a <see cref="Graph"/>: the op's declaration, its immutable attribute record
/// (value equality, so passes compare nodes by it), its input values and the one value it defines.
/// </summary>
internal sealed class GraphNode
{
    /// <summary>A node whose result has <paramref name="outputSpec"/> (the verifier checks it against the op's inference).</summary>
    internal GraphNode(OpDef op, OpAttributes attributes, GraphValue[] inputs, TensorSpec outputSpec)
    {
        Op = op;
        Attributes = attributes;
        Inputs = inputs;
        Output = new GraphValue(ValueKind.Node, outputSpec) { Producer = this, Dense = !op.IsView };
    }

    internal OpDef Op { get; }

    internal OpAttributes Attributes { get; }

    /// <summary>The input values; passes rewire them in place.</summary>
    internal GraphValue[] Inputs { get; }

    internal GraphValue Output { get; }

    public override string ToString() => Op.Name;
}
