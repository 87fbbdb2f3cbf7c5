namespace Kiln.Optim;

/// <summary>
/// Base of Kiln's optimizers, as torch.optim.Optimizer: parameter groups with their own hyper-parameters,
/// <see cref="ZeroGrad"/>, <see cref="Step"/> (one fused pass per parameter), and a state dict that a fresh
/// optimizer can load to continue the same trajectory. An optimizer may be created without parameters and
/// get them later through <see cref="AddParamGroup(ParamGroup)"/>. It owns its state tensors: dispose it to
/// free them at once.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<ParamGroup> _groups = [];
    private readonly KeyValuePair<string, double>[] _defaultList;
    private readonly Dictionary<Tensor, ParameterState> _state = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private protected Optimizer(IEnumerable<KeyValuePair<string, double>> defaults)
    {
        _defaultList = defaults.ToArray();
        foreach (var (name, value) in _defaultList) ParamGroup.CheckValue(name, value);
        Defaults = _defaultList.ToDictionary(d => d.Key, d => d.Value);
        var probe = new ParamGroup([]);
        probe.Resolve(_defaultList);
        if (GroupProblem(probe) is { } problem) throw new ArgumentException($"{Name}: {problem}");
    }

    /// <summary>The hyper-parameters a group takes when it does not set them (PyTorch's <c>optimizer.defaults</c>).</summary>
    public IReadOnlyDictionary<string, double> Defaults { get; }

    /// <summary>The parameter groups, in the order their parameters are numbered in the state dict.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The optimizer's name in messages and state dicts ("Adam").</summary>
    internal string Name => GetType().Name;

    /// <summary>Adds the parameters the constructor was given as one group; an empty list is refused, as in PyTorch.</summary>
    private protected void AddInitial(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var group = new ParamGroup(parameters);
        if (group.Params.Count == 0)
            throw new ArgumentException($"{Name} got an empty parameter list; create it without parameters and call AddParamGroup later if they come later", nameof(parameters));
        AddParamGroup(group);
    }

    /// <summary>Adds the parameter groups the constructor was given; an empty list is refused, as in PyTorch.</summary>
    private protected void AddInitial(IEnumerable<ParamGroup> paramGroups)
    {
        ArgumentNullException.ThrowIfNull(paramGroups);
        var groups = paramGroups.ToList();
        if (groups.Count == 0)
            throw new ArgumentException($"{Name} got an empty list of parameter groups", nameof(paramGroups));
        foreach (var group in groups) AddParamGroup(group);
    }

    /// <summary>Adds <paramref name="parameters"/> as a new group with the default hyper-parameters.</summary>
    public void AddParamGroup(IEnumerable<Tensor> parameters) => AddParamGroup(new ParamGroup(parameters));

    /// <summary>
    /// Adds <paramref name="group"/>; options it does not set take the optimizer's defaults. Its parameters
    /// must be contiguous floating-point leaf tensors that are in no other group.
    /// </summary>
    public void AddParamGroup(ParamGroup group)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(group);
        if (group.Owner is not null)
            throw new ArgumentException($"this parameter group already belongs to {(ReferenceEquals(group.Owner, this) ? "this" : "another")} {group.Owner.Name}; make a new ParamGroup", nameof(group));
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups)
            foreach (var p in g.Params) seen.Add(p);
        for (int i = 0; i < group.Params.Count; i++)
        {
            var p = group.Params[i];
            string which = $"parameter {i} of the new group ({p.Shape} {p.DType.Name()})";
            if (p.IsDisposed) throw new ArgumentException($"{Name}: {which} was disposed", nameof(group));
            if (!p.IsLeaf) throw new ArgumentException($"{Name} can't optimize a non-leaf tensor: {which} was made by {p.GradFnName}; optimize the leaf it came from", nameof(group));
            if (!p.DType.IsFloatingPoint()) throw new ArgumentException($"{Name} optimizes float32 and float64 tensors, but {which} is not floating-point", nameof(group));
            if (!p.IsContiguous) throw new ArgumentException($"{Name} updates parameters in one pass over contiguous memory, but {which} is a non-contiguous view (strides [{string.Join(", ", p.Strides)}]); optimize a contiguous tensor", nameof(group));
            if (!seen.Add(p)) throw new ArgumentException($"{Name}: some parameters appear in more than one parameter group ({which} is already optimized)", nameof(group));
        }
        foreach (var (name, _) in group.Options)
            if (ParamGroup.KnownOptions.ContainsKey(name) && !Defaults.ContainsKey(name))
                throw new ArgumentException($"{Name} does not use '{name}'; its hyper-parameters are {string.Join(", ", Defaults.Keys)}", nameof(group));
        group.Resolve(_defaultList);
        if (GroupProblem(group) is { } problem) throw new ArgumentException($"{Name}: {problem}", nameof(group));
        group.Owner = this;
        _groups.Add(group);
    }

    /// <summary>
    /// Clears the gradients of every parameter. With <paramref name="setToNone"/> (the default, as in
    /// PyTorch 2) each gradient is disposed and set to null; otherwise it is zeroed in place.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        ThrowIfDisposed();
        foreach (var group in _groups)
        {
            foreach (var p in group.Params)
            {
                var g = p.Grad;
                if (g is null) continue;
                if (setToNone || !g.IsLeaf)
                {
                    p.Grad = setToNone ? null : Tensor.ZerosLike(g).DetachFromScope();
                    g.Dispose();
                }
                else
                {
                    using (Engine.NoGrad()) g.ZeroInPlace();
                }
            }
        }
    }

    /// <summary>
    /// One optimization step: each parameter with a gradient is updated in one pass over its data, its
    /// gradient and its state; parameters whose <see cref="Tensor.Grad"/> is null are skipped.
    /// </summary>
    public void Step()
    {
        ThrowIfDisposed();
        if (!_groups.Any(g => g.Params.Count > 0))
            throw new KilnException($"{Name}.Step(): the optimizer has no parameters; pass them to its constructor or to AddParamGroup");
        int index = 0;
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var group = _groups[gi];
            if (GroupProblem(group) is { } problem) throw new KilnException($"{Name}.Step(): parameter group {gi}: {problem}");
            foreach (var p in group.Params)
            {
                int i = index++;
                if (p.Grad is not { } grad) continue;
                var g = CheckedGradient(p, grad, i);
                try
                {
                    Profiled(group, p, g, StateOf(p, i));
                    p.BumpVersion();
                }
                finally
                {
                    if (!ReferenceEquals(g, grad)) g.Dispose();
                }
            }
        }
    }

    /// <summary>The update of one parameter, timed as "Name.update" while a profiler records.</summary>
    private void Profiled(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        if (Profiler.Active is not { } profiler)
        {
            Update(group, param, grad, state);
            return;
        }
        long start = profiler.Enter();
        try { Update(group, param, grad, state); }
        finally { profiler.Exit(start, Name + ".update", new ReadOnlySpan<Tensor>(in param)); }
    }

    /// <summary>
    /// One optimization step with gradients given by parameter index (numbered across groups in order,
    /// as in the state dict) instead of read from <see cref="Tensor.Grad"/>; a null gradient skips its
    /// parameter, as a null Grad does in <see cref="Step"/>. The same fused update runs, with each group's
    /// hyper-parameters read now (so a learning-rate schedule takes effect); it allocates nothing once
    /// every parameter has its state. Compiled training steps call it with their gradient buffers.
    /// </summary>
    internal void StepWith(ReadOnlySpan<Tensor?> gradients)
    {
        ThrowIfDisposed();
        int index = 0;
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var group = _groups[gi];
            if (GroupProblem(group) is { } problem) throw new KilnException($"{Name}.Step(): parameter group {gi}: {problem}");
            var parameters = group.Params;
            for (int k = 0; k < parameters.Count; k++)
            {
                int i = index++;
                if (i >= gradients.Length || gradients[i] is not { } grad) continue;
                var p = parameters[k];
                var g = CheckedGradient(p, grad, i);
                try
                {
                    Profiled(group, p, g, StateOf(p, i));
                    p.BumpVersion();
                }
                finally
                {
                    if (!ReferenceEquals(g, grad)) g.Dispose();
                }
            }
        }
    }

    /// <summary>Every parameter of every group, numbered across groups in order (the indices <see cref="StepWith"/> takes).</summary>
    internal Tensor[] AllParameters()
    {
        var all = new List<Tensor>();
        foreach (var group in _groups) all.AddRange(group.Params);
        return all.ToArray();
    }

    /// <summary>
    /// The state of this optimizer as PyTorch lays it out: each group's hyper-parameters and parameter
    /// indices (numbered across groups in order), and each parameter's state tensors by index ("step" as
    /// a float32 scalar, the buffers as views of the live state tensors, as PyTorch returns them: save or
    /// copy them before the next step if a snapshot is wanted).
    /// </summary>
    public OptimizerStateDict StateDict()
    {
        ThrowIfDisposed();
        var groups = new List<ParamGroupState>();
        var state = new SortedDictionary<int, IReadOnlyDictionary<string, Tensor>>();
        int index = 0;
        foreach (var group in _groups)
        {
            var indices = new int[group.Params.Count];
            for (int k = 0; k < indices.Length; k++)
            {
                int i = index++;
                indices[k] = i;
                if (!_state.TryGetValue(group.Params[k], out var s)) continue;
                var entries = new Dictionary<string, Tensor>();
                if (UsesStep) entries["step"] = Tensor.Scalar(s.Step, DType.Float32);
                foreach (var name in StateNames)
                    if (s.Buffers.TryGetValue(name, out var buffer)) entries[name] = buffer.Detach();
                state[i] = entries;
            }
            groups.Add(new ParamGroupState(group.Options.ToArray(), indices));
        }
        return new OptimizerStateDict(Name, groups, state);
    }

    /// <summary>
    /// Replaces this optimizer's state and group hyper-parameters with <paramref name="stateDict"/>'s (copies,
    /// converted to each parameter's dtype). Everything is checked before anything changes: the optimizer
    /// type, the number of groups and of parameters in each, state names, shapes and step counts.
    /// </summary>
    public void LoadStateDict(OptimizerStateDict stateDict)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(stateDict);
        var loader = new OptimizerStateLoader(this, stateDict);
        var (options, state) = loader.Read();
        for (int g = 0; g < _groups.Count; g++) _groups[g].ReplaceOptions(options[g]);
        foreach (var old in _state.Values) old.Dispose();
        _state.Clear();
        foreach (var (p, s) in state) _state[p] = s;
    }

    /// <summary>Frees the state tensors. Later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }

    // ---- what each optimizer supplies ----

    /// <summary>The names of the state tensors this optimizer may keep per parameter, in state-dict order.</summary>
    internal abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>The state tensors that exist together once a parameter has taken a step (and "step" with them when <see cref="UsesStep"/>).</summary>
    internal abstract IReadOnlyList<string> CoreStateNames { get; }

    /// <summary>Whether the state has a "step" count.</summary>
    internal abstract bool UsesStep { get; }

    /// <summary>A problem with a group's combination of hyper-parameters (each value was checked alone already), or null.</summary>
    internal virtual string? GroupProblem(ParamGroup group) => null;

    /// <summary>Updates <paramref name="param"/> (contiguous, as is <paramref name="grad"/>, same shape and dtype) in one pass.</summary>
    private protected abstract void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state);

    // ---- internals ----

    internal IReadOnlyList<ParamGroup> Groups => _groups;

    internal IReadOnlyList<KeyValuePair<string, double>> DefaultList => _defaultList;

    /// <summary>The live state of <paramref name="param"/>, or null (for tests).</summary>
    internal ParameterState? StateFor(Tensor param) => _state.GetValueOrDefault(param);

    private ParameterState StateOf(Tensor p, int index)
    {
        if (!_state.TryGetValue(p, out var state))
        {
            state = new ParameterState();
            _state[p] = state;
            return state;
        }
        bool converted = false;
        foreach (var (name, buffer) in state.Buffers)
        {
            if (!buffer.Shape.Equals(p.Shape))
                throw new KilnException($"{Name}.Step(): state '{name}' of parameter {index} has shape {buffer.Shape}, but the parameter now has shape {p.Shape}");
            converted |= buffer.DType != p.DType;
        }
        if (!converted) return state;
        // The parameter changed dtype in place (Module.To): its state follows, as load_state_dict casts it.
        foreach (var name in state.Buffers.Keys.ToList())
        {
            var buffer = state.Buffers[name];
            if (buffer.DType == p.DType) continue;
            using (Engine.NoGrad()) state.Buffers[name] = buffer.To(p.DType).DetachFromScope();
            buffer.Dispose();
        }
        return state;
    }

    private Tensor CheckedGradient(Tensor p, Tensor grad, int index)
    {
        string Which() => $"parameter {index} ({p.Shape} {p.DType.Name()})";
        if (p.IsDisposed) throw new KilnException($"{Name}.Step(): parameter {index} was disposed");
        if (grad.IsDisposed) throw new KilnException($"{Name}.Step(): the gradient of {Which()} was disposed");
        if (!p.IsContiguous)
            throw new KilnException($"{Name}.Step(): {Which()} is no longer contiguous (strides [{string.Join(", ", p.Strides)}]); optimizers update contiguous parameters");
        if (!grad.Shape.Equals(p.Shape))
            throw new KilnException($"{Name}.Step(): the gradient of {Which()} has shape {grad.Shape}; expected the parameter's shape");
        if (grad.DType != p.DType)
            throw new KilnException($"{Name}.Step(): the gradient of {Which()} is {grad.DType.Name()}; expected the parameter's dtype");
        if (grad.IsContiguous) return grad;
        using (Engine.NoGrad()) return grad.Clone();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
