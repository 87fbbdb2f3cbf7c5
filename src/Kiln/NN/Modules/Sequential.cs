using System.Collections;

namespace Kiln.NN;

/// <summary>
/// Runs its modules one after another, each on the previous one's output (PyTorch's
/// <c>nn.Sequential</c>). Children are named "0", "1", ... (or by the keys given), so a state dict
/// has PyTorch's keys (<c>0.weight</c>). Supports indexing (<c>model[^1]</c>), slicing
/// (<c>model[..2]</c>, which shares the modules and keeps their names) and collection initializers.
/// </summary>
public class Sequential : Module, IReadOnlyList<Module>
{
    [ExcludeFromState] private readonly List<(string Name, Module Module)> _items = new();

    // No IEnumerable<Module> overload: a Sequential is itself one, so new Sequential(inner) would be
    // ambiguous; write new Sequential([.. modules]) for a list.

    /// <summary>A sequence of <paramref name="modules"/>, named "0", "1", ...</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules) Add(m);
    }

    /// <summary>A sequence of named modules, in the given order (PyTorch's <c>Sequential(OrderedDict(...))</c>): <c>new Sequential([("conv", conv), ("act", new Relu())])</c>.</summary>
    public Sequential(IEnumerable<(string Name, Module Module)> namedModules)
    {
        ArgumentNullException.ThrowIfNull(namedModules);
        foreach (var (name, module) in namedModules) Insert(name, module);
    }

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <summary>The module at <paramref name="index"/>; setting replaces it and keeps its name.</summary>
    public Module this[int index]
    {
        get => _items[CheckIndex(index)].Module;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            int i = CheckIndex(index);
            _items[i].Module.ClearParent(this);
            _items[i] = (_items[i].Name, value);
            value.SetParent(this, _items[i].Name);
        }
    }

    /// <summary>The module named <paramref name="name"/>.</summary>
    public Module this[string name]
    {
        get
        {
            foreach (var (n, m) in _items)
                if (n == name) return m;
            throw new KeyNotFoundException($"Sequential has no module named \"{name}\"");
        }
    }

    /// <summary>A new Sequential of the modules from <paramref name="start"/>, <paramref name="length"/> of them, sharing them and keeping their names (what <c>model[1..3]</c> calls).</summary>
    public Sequential Slice(int start, int length)
    {
        if (start < 0 || length < 0 || start + length > _items.Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Sequential of {_items.Count} modules has no slice [{start}, {start + length})");
        var slice = new Sequential();
        foreach (var (name, module) in _items.GetRange(start, length)) slice._items.Add((name, module));
        return slice;
    }

    /// <summary>Adds <paramref name="module"/> at the end, named by its position.</summary>
    public void Add(Module module) => Append(module);

    /// <summary>Adds <paramref name="module"/> at the end, named by its position. Returns this Sequential.</summary>
    public Sequential Append(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        Insert(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        return this;
    }

    private void Insert(string name, Module module)
    {
        CheckMemberName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException("a Sequential cannot contain itself", nameof(module));
        foreach (var (n, _) in _items)
            if (n == name) throw new ArgumentException($"Sequential already has a module named \"{name}\"", nameof(name));
        _items.Add((name, module));
        module.SetParent(this, name);
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_items.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is out of range for a Sequential of {_items.Count} modules");
        return index;
    }

    /// <summary>
    /// Layers that keep no reference to their input or output once their forward pass returns when no
    /// gradient is recorded (exact types: a subclass may keep one).
    /// </summary>
    private static readonly HashSet<Type> LayersKeepingNothing =
    [
        typeof(Conv1d), typeof(Conv2d), typeof(ConvTranspose2d), typeof(Linear), typeof(Flatten), typeof(Dropout), typeof(Identity),
        typeof(Relu), typeof(LeakyRelu), typeof(Elu), typeof(Gelu), typeof(Silu), typeof(Sigmoid), typeof(Tanh), typeof(Softplus),
        typeof(Softmax), typeof(LogSoftmax), typeof(MaxPool2d), typeof(AvgPool2d), typeof(AdaptiveAvgPool2d),
        typeof(BatchNorm1d), typeof(BatchNorm2d), typeof(LayerNorm), typeof(GroupNorm),
    ];

    /// <summary>
    /// Calls each module in turn on the previous one's output. When no gradient is recorded (inference,
    /// evaluation) nothing needs an intermediate output once the next layer has read it, so an output
    /// that only built-in layers without hooks saw goes back to the pool at once instead of at the end
    /// of the scope: a large evaluation batch holds about two activations at a time, not all of them
    /// (as PyTorch, which frees them by reference count).
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        bool release = !GradMode.IsEnabled && Ops.TraceRecorder.Current is null;
        var x = input;
        Tensor? owned = null;
        foreach (var (_, module) in _items)
        {
            bool plain = release && !module.HasForwardHooks && LayersKeepingNothing.Contains(module.GetType());
            var y = module.Call(x);
            if (owned is not null && plain && !ReferenceEquals(y, owned)) owned.Dispose();
            owned = plain && !ReferenceEquals(y, x) ? y : null;
            x = y;
        }
        return x;
    }

    private protected override void AddItems(List<Member> members)
    {
        foreach (var (name, module) in _items) members.Add(new Member(name, MemberKind.Module, null, module));
    }

    /// <summary>The modules in order.</summary>
    public IEnumerator<Module> GetEnumerator() => _items.Select(i => i.Module).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
