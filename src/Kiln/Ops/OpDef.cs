namespace Kiln.Ops;

/// <summary>
/// The declaration of one primitive op: everything any consumer (dispatcher, tape, compiler,
/// exporters, tests) needs to know about it, in one place. Subclass <see cref="OpDef{TAttr}"/>;
/// register the instance from a [ModuleInitializer] in the same file.
/// </summary>
internal abstract class OpDef
{
    /// <summary>Stable name, used in errors, graphs and files.</summary>
    public abstract string Name { get; }

    /// <summary>The name of this op's autograd nodes ("AddBackward"), made once rather than per recorded call.</summary>
    internal string BackwardName => _backwardName ??= Name + "Backward";
    private string? _backwardName;

    public virtual FusionKind Fusion => FusionKind.Opaque;

    /// <summary>False for ops with no gradient (comparisons, argmax, ...): their outputs never require grad.</summary>
    public virtual bool IsDifferentiable => true;

    /// <summary>True when the op returns a view of its first input instead of new memory.</summary>
    public virtual bool IsView => false;

    /// <summary>
    /// False for an op that only an executor's lowering passes create (a fused chain, a pre-packed
    /// GEMM): it never appears in a portable graph, so it needs no file form, and a <c>.kiln</c> reader
    /// refuses it by name. Ops users and tracing reach are portable.
    /// </summary>
    public virtual bool IsPortable => true;

    /// <summary>
    /// True for ops that draw from the global random stream when they run (a traced Rand): every run gives
    /// new values and advances the stream, so passes never fold, merge or remove them.
    /// </summary>
    public virtual bool IsRandom => false;

    /// <summary>Whether backward reads the inputs' values (so an in-place change of one after the call is an error).</summary>
    public virtual bool BackwardReadsInputs => true;

    /// <summary>Whether backward reads the output's value.</summary>
    public virtual bool BackwardReadsOutput => false;

    /// <summary>Number of tensor inputs the op takes, or <see cref="Variadic"/> for any number of at least one (Cat).</summary>
    public abstract int Arity { get; }

    /// <summary>The <see cref="Arity"/> of an op that takes any number of inputs, at least one.</summary>
    internal const int Variadic = -1;

    /// <summary>Throws when <paramref name="count"/> inputs do not fit <see cref="Arity"/>.</summary>
    internal void CheckArity(int count)
    {
        if (Arity == Variadic ? count < 1 : count != Arity)
            throw new KilnShapeException($"{Name}: takes {(Arity == Variadic ? "at least 1" : Arity.ToString())} inputs, got {count}");
    }

    internal abstract Type AttributesType { get; }

    internal abstract TensorSpec InferUntyped(ReadOnlySpan<TensorSpec> inputs, OpAttributes attributes);
    internal abstract void ForwardUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes, Tensor output);
    internal abstract Tensor ViewUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes);
    internal abstract Tensor?[] BackwardUntyped(BackwardContext context);
    internal abstract Tensor ReferenceUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes);
    internal abstract IEnumerable<OpSample> SamplesUntyped();
    internal abstract IEnumerable<OpInvalidSample> InvalidSamplesUntyped();

    /// <summary>
    /// Reads this op's attribute record from the bytes a <c>.kiln</c> file stores for a node, every byte
    /// and range checked (see <see cref="AttributeReader"/>); throws <see cref="KilnFormatException"/>.
    /// </summary>
    internal abstract OpAttributes ReadAttributesUntyped(AttributeReader reader);

    /// <summary>A shape error that names this op and its inputs: "MatMul: inner dimensions differ: [32, 128] float32 @ [256, 10] float32".</summary>
    internal KilnShapeException Error(string what, ReadOnlySpan<TensorSpec> inputs)
    {
        var parts = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) parts[i] = inputs[i].ToString();
        return new KilnShapeException($"{Name}: {what} (inputs: {string.Join(", ", parts)})");
    }

    public override string ToString() => Name;
}

/// <summary>An op declaration with typed attributes.</summary>
internal abstract class OpDef<TAttr> : OpDef where TAttr : OpAttributes
{
    internal sealed override Type AttributesType => typeof(TAttr);

    /// <summary>Output shape and dtype; throws <see cref="KilnShapeException"/> (via <see cref="OpDef.Error"/>) on bad inputs.</summary>
    public abstract TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, TAttr attributes);

    /// <summary>Computes into <paramref name="output"/> (allocated from <see cref="Infer"/>; possibly strided for in-place calls).</summary>
    public virtual void Forward(ReadOnlySpan<Tensor> inputs, TAttr attributes, Tensor output)
        => throw new InvalidOperationException($"{Name} is a view op and has no Forward");

    /// <summary>For <see cref="OpDef.IsView"/> ops: the view of inputs[0].</summary>
    public virtual Tensor View(ReadOnlySpan<Tensor> inputs, TAttr attributes)
        => throw new InvalidOperationException($"{Name} is not a view op");

    /// <summary>Gradients of the inputs, written with ops so they are differentiable themselves.</summary>
    public virtual Tensor?[] Backward(BackwardContext c, TAttr attributes)
        => throw new KilnAutogradException($"{Name} is not differentiable");

    /// <summary>The float64 reference the conformance suite compares against: plain loops, written for clarity.</summary>
    public abstract Tensor Reference(ReadOnlySpan<Tensor> inputs, TAttr attributes);

    public virtual IEnumerable<OpSample> Samples() => [];

    public virtual IEnumerable<OpInvalidSample> InvalidSamples() => [];

    internal sealed override TensorSpec InferUntyped(ReadOnlySpan<TensorSpec> inputs, OpAttributes attributes)
    {
        CheckArity(inputs.Length);
        return Infer(inputs, (TAttr)attributes);
    }
    internal sealed override void ForwardUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes, Tensor output) => Forward(inputs, (TAttr)attributes, output);
    internal sealed override Tensor ViewUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes) => View(inputs, (TAttr)attributes);
    internal sealed override Tensor?[] BackwardUntyped(BackwardContext context) => Backward(context, (TAttr)context.Attributes);
    internal sealed override Tensor ReferenceUntyped(ReadOnlySpan<Tensor> inputs, OpAttributes attributes) => Reference(inputs, (TAttr)attributes);
    internal sealed override IEnumerable<OpSample> SamplesUntyped() => Samples();
    internal sealed override IEnumerable<OpInvalidSample> InvalidSamplesUntyped() => InvalidSamples();

    internal sealed override OpAttributes ReadAttributesUntyped(AttributeReader reader)
    {
        var read = AttributeFormat<TAttr>.Reader
            ?? throw new KilnFormatException($"{reader.Context}: {Name} cannot be read from a file (its attributes have no .kiln file form)");
        var attributes = read(reader);
        reader.End();
        return attributes;
    }
}
