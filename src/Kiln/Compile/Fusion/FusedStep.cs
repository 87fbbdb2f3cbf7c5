using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// One op of a fused elementwise chain: the op and its attributes, where each operand comes from
/// (an index below the fused node's input count names one of its inputs; an index past it names the
/// result of an earlier step, counting from the input count), and the spec the step computes.
/// </summary>
internal sealed record FusedStep(OpDef Op, OpAttributes Attributes, IntList Operands, TensorSpec Spec);
