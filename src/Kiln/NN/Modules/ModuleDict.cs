using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Kiln.NN;

/// <summary>
/// Modules by name, in insertion order, whose parameters belong to the owning module (PyTorch's
/// <c>nn.ModuleDict</c>). It has no <see cref="Module.Forward"/>: the owner calls the items. A field of
/// type <c>Dictionary&lt;string, T&gt;</c> of modules is shown as one of these.
/// </summary>
public class ModuleDict : Module, IDictionary<string, Module>, IReadOnlyDictionary<string, Module>
{
    [ExcludeFromState] private readonly OrderedDictionary<string, Module> _items = new();

    /// <summary>An empty dictionary.</summary>
    public ModuleDict()
    {
    }

    /// <summary>A dictionary of <paramref name="modules"/>, in the given order.</summary>
    public ModuleDict(IEnumerable<KeyValuePair<string, Module>> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var (key, module) in modules) Add(key, module);
    }

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    bool ICollection<KeyValuePair<string, Module>>.IsReadOnly => false;

    /// <summary>The module named <paramref name="key"/>; setting adds or replaces it.</summary>
    public Module this[string key]
    {
        get => _items.TryGetValue(key, out var m) ? m : throw new KeyNotFoundException($"ModuleDict has no module named \"{key}\"");
        set
        {
            CheckMemberName(key, nameof(key));
            ArgumentNullException.ThrowIfNull(value);
            if (_items.TryGetValue(key, out var old)) old.ClearParent(this);
            _items[key] = value;
            value.SetParent(this, key);
        }
    }

    /// <summary>The names, in insertion order.</summary>
    public ICollection<string> Keys => _items.Keys;

    /// <summary>The modules, in insertion order.</summary>
    public ICollection<Module> Values => _items.Values;

    IEnumerable<string> IReadOnlyDictionary<string, Module>.Keys => _items.Keys;
    IEnumerable<Module> IReadOnlyDictionary<string, Module>.Values => _items.Values;

    /// <summary>Adds <paramref name="module"/> under <paramref name="key"/>, which must be new.</summary>
    public void Add(string key, Module module)
    {
        CheckMemberName(key, nameof(key));
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException("a ModuleDict cannot contain itself", nameof(module));
        if (_items.ContainsKey(key)) throw new ArgumentException($"ModuleDict already has a module named \"{key}\"", nameof(key));
        _items.Add(key, module);
        module.SetParent(this, key);
    }

    /// <summary>Removes the module named <paramref name="key"/>.</summary>
    public bool Remove(string key)
    {
        if (!_items.Remove(key, out var old)) return false;
        old.ClearParent(this);
        return true;
    }

    /// <summary>Removes every module.</summary>
    public void Clear()
    {
        foreach (var m in _items.Values) m.ClearParent(this);
        _items.Clear();
    }

    /// <summary>Whether a module is named <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => _items.ContainsKey(key);

    /// <summary>The module named <paramref name="key"/>, if any.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Module value) => _items.TryGetValue(key, out value);

    /// <summary>The names and modules in insertion order.</summary>
    public IEnumerator<KeyValuePair<string, Module>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void ICollection<KeyValuePair<string, Module>>.Add(KeyValuePair<string, Module> item) => Add(item.Key, item.Value);
    bool ICollection<KeyValuePair<string, Module>>.Contains(KeyValuePair<string, Module> item) => ((ICollection<KeyValuePair<string, Module>>)_items).Contains(item);
    void ICollection<KeyValuePair<string, Module>>.CopyTo(KeyValuePair<string, Module>[] array, int arrayIndex) => ((ICollection<KeyValuePair<string, Module>>)_items).CopyTo(array, arrayIndex);
    bool ICollection<KeyValuePair<string, Module>>.Remove(KeyValuePair<string, Module> item)
        => ((ICollection<KeyValuePair<string, Module>>)_items).Contains(item) && Remove(item.Key);

    /// <summary>Makes the items those of a dictionary field, for the ModuleDict a module shows for it.</summary>
    internal void SyncFrom(IEnumerable<KeyValuePair<string, Module>> modules)
    {
        _items.Clear();
        foreach (var (key, module) in modules)
        {
            CheckMemberName(key, nameof(modules));
            _items[key] = module;
            module.SetParent(this, key);
        }
    }

    private protected override void AddItems(List<Member> members)
    {
        foreach (var (key, module) in _items) members.Add(new Member(key, MemberKind.Module, null, module));
    }
}
