namespace Kiln.Ops;

/// <summary>The autograd record of one op call: op, attributes, saved tensors and their versions.</summary>
internal sealed class OpNode : GradNode
{
    private Tensor[]? _inputs;
    private Tensor? _output;
    private readonly int[] _inputVersions;
    private int _outputVersion;
    private readonly string _name;

    internal OpNode(OpDef op, OpAttributes attributes, Tensor[] inputs)
    {
        Op = op;
        Attributes = attributes;
        _inputs = inputs;
        RecordEdges(inputs);
        _name = op.BackwardName;
        // Versions are only checked for inputs backward reads.
        _inputVersions = op.BackwardReadsInputs ? new int[inputs.Length] : [];
        if (op.BackwardReadsInputs)
            for (int i = 0; i < inputs.Length; i++) _inputVersions[i] = inputs[i].Version;
    }

    internal OpDef Op { get; }
    internal OpAttributes Attributes { get; }

    internal override string Name => _name;

    internal override ReadOnlySpan<Tensor> Inputs => _inputs ?? throw Released();

    internal Tensor[] SavedInputs => _inputs ?? throw Released();
    internal Tensor? SavedOutput => _output;

    internal void SaveOutput(Tensor output)
    {
        if (!Op.BackwardReadsOutput) return;
        // The saved view keeps the output's history, so a backward formula that reads the output
        // (Exp: grad * output) is itself differentiable under createGraph.
        var saved = output.Detach().DetachFromScope();
        saved.GradFn = output.GradFn;
        saved.SetRequiresGradUnchecked(output.RequiresGrad);
        // It ends with the output's scope: a forward pass whose backward never runs holds no memory past it.
        output.Scope?.Adopt(saved);
        _output = saved;
        _outputVersion = output.Version;
    }

    internal override Tensor?[] Apply(Tensor outputGrad)
    {
        var inputs = _inputs ?? throw Released();
        if (Op.BackwardReadsInputs)
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].IsDisposed) throw Disposed($"input {i}", inputs[i]);
                if (inputs[i].Version != _inputVersions[i]) throw Modified($"input {i}", inputs[i], _inputVersions[i]);
            }
        if (_output is not null)
        {
            if (_output.IsDisposed) throw Disposed("output", _output);
            if (_output.Version != _outputVersion) throw Modified("output", _output, _outputVersion);
        }
        return Op.BackwardUntyped(new BackwardContext(this, outputGrad));
    }

    internal override void ReleaseSaved()
    {
        _inputs = null;
        _output?.Dispose();
        _output = null;
    }

    private KilnAutogradException Released() => new(
        $"{Name}: trying to backward through the graph a second time (or to use its saved tensors after they were freed); " +
        "pass retainGraph: true to the first Backward call");

    private KilnAutogradException Disposed(string which, Tensor t) => new(
        $"{Name}: the {which} ({t.Shape} {t.DType.Name()}) saved for gradient computation was disposed, " +
        "usually because the scope that ran the forward pass ended; run Backward inside that scope");

    private KilnAutogradException Modified(string which, Tensor t, int expected) => new(
        $"{Name}: one of the tensors needed for gradient computation has been modified by an in-place operation: " +
        $"the {which} ({t.Shape} {t.DType.Name()}) is at version {t.Version}; expected version {expected}");
}
