namespace Kiln.Ops;

/// <summary>Copies a tensor into new contiguous memory; the gradient passes through unchanged.</summary>
internal sealed class CloneOp : OpDef<NoAttributes>, IPerElementOp
{
    internal static readonly CloneOp Instance = new();

    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "Clone";
    public override int Arity => 1;
    public override FusionKind Fusion => FusionKind.Elementwise;
    public override bool BackwardReadsInputs => false;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a) => inputs[0];

    public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output) => Dispatcher.CopyInto(inputs[0], output);

    public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [c.Grad];

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        => Tensor.From<double>(inputs[0].ToArray<double>(), inputs[0].ShapeArray);

    public override IEnumerable<OpSample> Samples() =>
    [
        new("matrix", () => [OpSample.Uniform(1, -1, 1, 3, 4)], NoAttributes.Instance),
        new("empty", () => [OpSample.Uniform(2, -1, 1, 0, 3)], NoAttributes.Instance),
    ];
}
