namespace Kiln.Ops;

/// <summary>
/// Base for the one-input view ops (Reshape, Expand, Permute, Squeeze, Unsqueeze, Select, Slice):
/// the result shares the input's memory, so a subclass gives a View instead of a Forward, and its
/// backward only moves the gradient back into the input's shape, reading no values.
/// </summary>
internal abstract class ViewOp<TAttr> : OpDef<TAttr> where TAttr : OpAttributes
{
    public override int Arity => 1;
    public override bool IsView => true;
    public override FusionKind Fusion => FusionKind.View;
    public override bool BackwardReadsInputs => false;
}
