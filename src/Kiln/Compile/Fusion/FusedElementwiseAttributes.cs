using System.Text;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// The step list of a <see cref="FusedElementwiseOp"/> node, compared by value (two fused nodes with
/// equal steps on equal inputs compute the same). Prints as
/// <c>{ s0 = Sub(in0, in1) : [64,256] f32; s1 = Relu(s0) : [64,256] f32 }</c>, so graph dumps show
/// what the fused node runs.
/// </summary>
internal sealed record FusedElementwiseAttributes(int InputCount, IReadOnlyList<FusedStep> Steps) : OpAttributes
{
    public bool Equals(FusedElementwiseAttributes? other)
    {
        if (other is null || other.InputCount != InputCount || other.Steps.Count != Steps.Count) return false;
        for (int i = 0; i < Steps.Count; i++)
            if (!Steps[i].Equals(other.Steps[i])) return false;
        return true;
    }

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(InputCount);
        foreach (var s in Steps) h.Add(s);
        return h.ToHashCode();
    }

    /// <summary>"in2" for an input operand, "s1" for a step's result.</summary>
    internal string OperandName(int operand) => operand < InputCount ? $"in{operand}" : $"s{operand - InputCount}";

    public override string ToString()
    {
        var text = new StringBuilder("FusedElementwiseAttributes { ");
        for (int i = 0; i < Steps.Count; i++)
        {
            var step = Steps[i];
            if (i > 0) text.Append("; ");
            text.Append('s').Append(i).Append(" = ").Append(step.Op.Name).Append('(');
            for (int k = 0; k < step.Operands.Count; k++)
            {
                if (k > 0) text.Append(", ");
                text.Append(OperandName(step.Operands[k]));
            }
            text.Append(')');
            var attributes = GraphPrinter.Attributes(step.Attributes);
            if (attributes.Length > 0) text.Append(' ').Append(attributes);
            text.Append(" : ").Append(GraphPrinter.Spec(step.Spec));
        }
        return text.Append(" }").ToString();
    }
}
