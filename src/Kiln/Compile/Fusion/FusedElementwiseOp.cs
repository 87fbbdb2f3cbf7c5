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
