using System.Text;
using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// A chain (or small DAG) of elementwise ops the <see cref="ElementwiseFusionPass"/> merged into one
/// node. It is internal to the compiler: not registered (no eager entry point, no file or export
/// form; the <c>.kiln</c> file keeps the graph from before lowering). It runs tile by tile (see
/// <see cref="FusedElementwiseRunner"/>): each step calls its own op's kernel on an L1-sized tile, so
/// the results are those of the unfused ops bit for bit and the intermediates never reach memory.
/// Inference checks the whole step list, so the verifier understands fused nodes.
/// </summary>
internal sealed class FusedElementwiseOp : OpDef<FusedElementwiseAttributes>
{
    internal static readonly FusedElementwiseOp Instance = new();

    public override string Name => "FusedElementwise";
    public override bool IsPortable => false;
    public override int Arity => Variadic;
    public override FusionKind Fusion => FusionKind.Elementwise;
    public override bool IsDifferentiable => false;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, FusedElementwiseAttributes a)
    {
        if (inputs.Length != a.InputCount) throw Error($"the step list reads {a.InputCount} inputs, the node has {inputs.Length}", inputs);
        if (a.Steps.Count == 0) throw Error("the step list is empty", inputs);
        var specs = new TensorSpec[a.InputCount + a.Steps.Count];
        inputs.CopyTo(specs);
        var shape = a.Steps[^1].Spec.Shape;
        for (int i = 0; i < a.Steps.Count; i++)
        {
            var step = a.Steps[i];
            if (step.Op is not IPerElementOp)
                throw Error($"step s{i} ({step.Op.Name}) is not an op that runs per element on tiles", inputs);
            var operands = new TensorSpec[step.Operands.Count];
            for (int k = 0; k < operands.Length; k++)
            {
                int operand = step.Operands[k];
                if (operand < 0 || operand >= a.InputCount + i)
                    throw Error($"step s{i} ({step.Op.Name}) reads operand {operand}, which is not an input or an earlier step", inputs);
                operands[k] = specs[operand];
            }
            var inferred = step.Op.InferUntyped(operands, step.Attributes);
            if (inferred != step.Spec)
                throw Error($"step s{i} ({step.Op.Name}) is declared {GraphPrinter.Spec(step.Spec)} but infers {GraphPrinter.Spec(inferred)}", inputs);
            if (step.Spec.Shape != shape)
                throw Error($"step s{i} ({step.Op.Name}) has shape {step.Spec.Shape}, but every step of a fused chain has the result's shape {shape}", inputs);
            specs[a.InputCount + i] = inferred;
        }
        return a.Steps[^1].Spec;
    }

    /// <summary>Runs the chain with a runner of its own (the executor keeps one per node instead, so its calls allocate nothing).</summary>
    public override void Forward(ReadOnlySpan<Tensor> inputs, FusedElementwiseAttributes a, Tensor output)
    {
        var specs = new TensorSpec[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) specs[i] = TensorSpec.Of(inputs[i]);
        using var runner = new FusedElementwiseRunner(a, specs);
        runner.Run(inputs, output);
    }

    /// <summary>Each step's reference in turn, on the whole tensors.</summary>
    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, FusedElementwiseAttributes a)
    {
        var values = new Tensor[a.InputCount + a.Steps.Count];
        inputs.CopyTo(values);
        for (int i = 0; i < a.Steps.Count; i++)
        {
            var step = a.Steps[i];
            var operands = new Tensor[step.Operands.Count];
            for (int k = 0; k < operands.Length; k++) operands[k] = values[step.Operands[k]];
            values[a.InputCount + i] = step.Op.ReferenceUntyped(operands, step.Attributes);
        }
        return values[^1];
    }
}

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

/// <summary>
/// One op of a fused elementwise chain: the op and its attributes, where each operand comes from
/// (an index below the fused node's input count names one of its inputs; an index past it names the
/// result of an earlier step, counting from the input count), and the spec the step computes.
/// </summary>
internal sealed record FusedStep(OpDef Op, OpAttributes Attributes, IntList Operands, TensorSpec Spec);
