using System.Collections;

namespace Kiln.NN;

/// <summary>
/// A list of modules whose parameters belong to the owning module, named "0", "1", ... (PyTorch's
/// <c>nn.ModuleList</c>). It has no <see cref="Module.Forward"/>: the owner calls the items. A field of
/// type <c>List&lt;T&gt;</c> or <c>T[]</c> of modules is shown as one of these.
/// </summary>
public class ModuleList : Module, IList<Module>, IReadOnlyList<Module>
{
    [ExcludeFromState] private readonly List<Module> _items = new();

    /// <summary>An empty list.</summary>
    public ModuleList()
    {
    }

    /// <summary>A list of <paramref name="modules"/> (<c>new ModuleList([a, b])</c>, or any sequence of modules).</summary>
    public ModuleList(IEnumerable<Module> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules) Add(m);
    }

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    bool ICollection<Module>.IsReadOnly => false;

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index]
    {
        get => _items[CheckIndex(index)];
        set
        {
            Check(value);
            _items[CheckIndex(index)].ClearParent(this);
            _items[index] = value;
            Rename();
        }
    }

    /// <summary>Adds <paramref name="module"/> at the end.</summary>
    public void Add(Module module)
    {
        Check(module);
        _items.Add(module);
        module.SetParent(this, (_items.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Adds <paramref name="module"/> at the end. Returns this list.</summary>
    public ModuleList Append(Module module)
    {
        Add(module);
        return this;
    }

    /// <summary>Adds every module of <paramref name="modules"/> at the end. Returns this list.</summary>
    public ModuleList Extend(IEnumerable<Module> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules.ToList()) Add(m);
        return this;
    }

    /// <summary>Inserts <paramref name="module"/> before position <paramref name="index"/>; the items after it are renamed.</summary>
    public void Insert(int index, Module module)
    {
        Check(module);
        if ((uint)index > (uint)_items.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is out of range for inserting into a ModuleList of {_items.Count} modules");
        _items.Insert(index, module);
        Rename();
    }

    /// <summary>Removes the module at <paramref name="index"/>; the items after it are renamed.</summary>
    public void RemoveAt(int index)
    {
        _items[CheckIndex(index)].ClearParent(this);
        _items.RemoveAt(index);
        Rename();
    }

    /// <summary>Removes the first occurrence of <paramref name="module"/>.</summary>
    public bool Remove(Module module)
    {
        int i = _items.IndexOf(module);
        if (i < 0) return false;
        RemoveAt(i);
        return true;
    }

    /// <summary>Removes every module.</summary>
    public void Clear()
    {
        foreach (var m in _items) m.ClearParent(this);
        _items.Clear();
    }

    /// <summary>Whether <paramref name="module"/> is in the list.</summary>
    public bool Contains(Module module) => _items.Contains(module);

    /// <summary>Position of the first occurrence of <paramref name="module"/>, or -1.</summary>
    public int IndexOf(Module module) => _items.IndexOf(module);

    /// <summary>Copies the modules into <paramref name="array"/> from <paramref name="arrayIndex"/>.</summary>
    public void CopyTo(Module[] array, int arrayIndex) => _items.CopyTo(array, arrayIndex);

    /// <summary>The modules in order.</summary>
    public IEnumerator<Module> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Makes the items those of a list field, for the ModuleList a module shows for it.</summary>
    internal void SyncFrom(IEnumerable<Module> modules)
    {
        _items.Clear();
        foreach (var m in modules)
            if (m is not null) _items.Add(m);
        Rename();
    }

    private protected override void AddItems(List<Member> members)
    {
        for (int i = 0; i < _items.Count; i++)
            members.Add(new Member(i.ToString(System.Globalization.CultureInfo.InvariantCulture), MemberKind.Module, null, _items[i]));
    }

    private void Rename()
    {
        for (int i = 0; i < _items.Count; i++) _items[i].SetParent(this, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private void Check(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException("a ModuleList cannot contain itself", nameof(module));
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_items.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is out of range for a ModuleList of {_items.Count} modules");
        return index;
    }
}
