namespace Kiln.Ops;

/// <summary>
/// An elementwise op whose kernel computes each output element from the same-index elements of its
/// inputs under NumPy broadcasting, whatever part of the tensors it is given: the compiler may run it
/// on tiles of its operands (elementwise fusion). Ops that are elementwise in the memory planner's
/// sense but broadcast by their own rules (per-channel operands) do not implement it.
/// </summary>
internal interface IPerElementOp;
