using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Kiln.NN;

public abstract partial class Module
{
    internal enum MemberKind
    {
        Parameter,
        Buffer,
        Module,
    }

    /// <summary>One direct member: a parameter or buffer (<see cref="Tensor"/>) or a child (<see cref="Module"/>).</summary>
    internal readonly record struct Member(string Name, MemberKind Kind, Tensor? Tensor, Module? Module, bool Persistent = true);

    private enum SlotKind
    {
        Tensor,
        Module,
        ModuleList,
        ModuleDict,
    }

    /// <summary>A field of a module type that can hold a member, with the member name derived from it.</summary>
    private sealed record Slot(FieldInfo Field, string Name, SlotKind Kind);

    private static readonly ConcurrentDictionary<Type, Slot[]> SlotsByType = new();

    // Tensors once seen as parameters stay parameters when frozen (RequiresGrad = false), as in PyTorch.
    private static readonly ConditionalWeakTable<Tensor, object> ParameterMarks = new();

    private const DynamicallyAccessedMemberTypes PropertyAccess = DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.NonPublicProperties;

    private List<Member>? _registered;
    private Dictionary<FieldInfo, Module>? _fieldContainers;
    private WeakReference<Module>? _parent;
    private string? _nameInParent;
    private bool _membersListed;

    // ---- explicit registration ----

    /// <summary>
    /// Adds <paramref name="parameter"/> as a parameter named <paramref name="name"/> (replacing one of
    /// that name): it is made to require grad and taken out of every scope. A field that holds the
    /// same tensor adds nothing more. Returns the tensor, for <c>_w = RegisterParameter("w", ...)</c>.
    /// </summary>
    public Tensor RegisterParameter(string name, Tensor parameter)
    {
        CheckMemberName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(parameter);
        if (!parameter.IsLeaf)
            throw new ArgumentException($"{TypeName}.RegisterParameter(\"{name}\"): a parameter must be a leaf tensor; this one was made by {parameter.GradFnName} (Detach() it first)", nameof(parameter));
        if (!parameter.DType.IsFloatingPoint())
            throw new ArgumentException($"{TypeName}.RegisterParameter(\"{name}\"): a parameter must be float32 or float64, not {parameter.DType.Name()}", nameof(parameter));
        parameter.RequiresGrad = true;
        MarkParameter(parameter);
        Register(new Member(name, MemberKind.Parameter, parameter.DetachFromScope(), null));
        return parameter;
    }

    /// <summary>
    /// Adds <paramref name="buffer"/> as a buffer named <paramref name="name"/> (state that is not
    /// trained, such as running statistics); it is taken out of every scope. A non-persistent buffer is
    /// left out of <see cref="StateDict"/>. Returns the tensor.
    /// </summary>
    public Tensor RegisterBuffer(string name, Tensor buffer, bool persistent = true)
    {
        CheckMemberName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(buffer);
        Register(new Member(name, MemberKind.Buffer, buffer.DetachFromScope(), null, persistent));
        return buffer;
    }

    /// <summary>Adds <paramref name="module"/> as a child named <paramref name="name"/> (PyTorch's <c>add_module</c>). Returns the module.</summary>
    public T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckMemberName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"{TypeName}.RegisterModule(\"{name}\"): a module cannot be its own child", nameof(module));
        Register(new Member(name, MemberKind.Module, null, module));
        module.SetParent(this, name);
        return module;
    }

    /// <summary>A new zero-filled float32 parameter for a layer to initialize: it requires grad and belongs to no scope.</summary>
    private protected static Tensor NewParameter(params int[] shape)
    {
        var t = Tensor.Zeros(shape).DetachFromScope();
        t.RequiresGrad = true;
        MarkParameter(t);
        return t;
    }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming <paramref name="argument"/> unless <paramref name="value"/> is positive.</summary>
    private protected void RequirePositive(int value, string argument)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(argument, value, $"{TypeName}: {argument} must be positive, got {value}");
    }

    private protected void RequirePositive(Size2d value, string argument)
    {
        if (value.Height <= 0 || value.Width <= 0) throw new ArgumentOutOfRangeException(argument, value, $"{TypeName}: {argument} must be positive, got {value}");
    }

    private protected void RequireNonNegative(Padding value, string argument)
    {
        if (value.Height < 0 || value.Width < 0) throw new ArgumentOutOfRangeException(argument, value, $"{TypeName}: {argument} must not be negative, got {value}");
    }

    private void Register(Member member)
    {
        _registered ??= new();
        int i = _registered.FindIndex(m => m.Name == member.Name);
        if (i >= 0) _registered[i] = member;
        else _registered.Add(member);
    }

    internal static void CheckMemberName(string name, string argument)
    {
        ArgumentNullException.ThrowIfNull(name, argument);
        if (name.Length == 0 || name.Contains('.'))
            throw new ArgumentException($"a module member name must be non-empty and contain no '.', got \"{name}\"", argument);
    }

    // ---- discovery ----

    /// <summary>
    /// This module's parameters, buffers and children, in order: fields in declaration order (base
    /// class first), then explicit registrations, then a container's items. Each child learns its
    /// parent and name here.
    /// </summary>
    internal List<Member> DirectMembers()
    {
        var members = new List<Member>();
        HashSet<object>? registeredObjects = null;
        if (_registered is not null)
        {
            registeredObjects = new HashSet<object>(ReferenceEqualityComparer.Instance);
            foreach (var r in _registered) registeredObjects.Add((object?)r.Tensor ?? r.Module!);
        }
        foreach (var slot in SlotsOf(GetType()))
        {
            var value = slot.Field.GetValue(this);
            if (value is null || registeredObjects?.Contains(value) == true) continue;
            switch (slot.Kind)
            {
                case SlotKind.Tensor:
                    var t = (Tensor)value;
                    // A tensor some op made (an activation kept for later) is a value, not state.
                    if (!t.IsLeaf) continue;
                    bool parameter = IsParameter(t);
                    t.DetachFromScope();
                    members.Add(new Member(slot.Name, parameter ? MemberKind.Parameter : MemberKind.Buffer, t, null));
                    break;
                case SlotKind.Module:
                    if (!ReferenceEquals(value, this)) members.Add(new Member(slot.Name, MemberKind.Module, null, (Module)value));
                    break;
                case SlotKind.ModuleList:
                    var list = FieldContainer<ModuleList>(slot.Field);
                    list.SyncFrom((IEnumerable<Module>)value);
                    members.Add(new Member(slot.Name, MemberKind.Module, null, list));
                    break;
                case SlotKind.ModuleDict:
                    var dict = FieldContainer<ModuleDict>(slot.Field);
                    dict.SyncFrom(DictionaryEntries(slot, value));
                    members.Add(new Member(slot.Name, MemberKind.Module, null, dict));
                    break;
            }
        }
        if (_registered is not null) members.AddRange(_registered);
        AddItems(members);

        var names = new HashSet<string>();
        foreach (var m in members)
        {
            if (!names.Add(m.Name))
                throw new KilnException($"{TypeName}: two members are named \"{m.Name}\" (field names are converted to snake_case without leading underscores); rename one, or mark one [ExcludeFromState]");
            m.Module?.SetParent(this, m.Name);
        }
        _membersListed = true;
        return members;
    }

    /// <summary>Adds a container's items (Sequential, ModuleList, ModuleDict) after the fields and registrations.</summary>
    private protected virtual void AddItems(List<Member> members)
    {
    }

    internal void SetParent(Module parent, string name)
    {
        if (_parent is not null && _parent.TryGetTarget(out var current) && ReferenceEquals(current, parent))
        {
            _nameInParent = name;
            return;
        }
        _parent = new WeakReference<Module>(parent);
        _nameInParent = name;
    }

    internal void ClearParent(Module parent)
    {
        if (_parent is not null && _parent.TryGetTarget(out var current) && ReferenceEquals(current, parent))
        {
            _parent = null;
            _nameInParent = null;
        }
    }

    private static bool IsParameter(Tensor t)
    {
        if (ParameterMarks.TryGetValue(t, out _)) return true;
        if (!t.RequiresGrad || !t.IsLeaf) return false;
        MarkParameter(t);
        return true;
    }

    internal static void MarkParameter(Tensor t) => ParameterMarks.AddOrUpdate(t, ParameterMarks);

    // A list or dictionary field is shown as a ModuleList or ModuleDict child, kept per field so its
    // training mode and identity persist between walks.
    private T FieldContainer<T>(FieldInfo field) where T : Module, new()
    {
        _fieldContainers ??= new();
        if (_fieldContainers.TryGetValue(field, out var existing)) return (T)existing;
        var created = new T { _training = _training };
        _fieldContainers[field] = created;
        return created;
    }

    private IEnumerable<KeyValuePair<string, Module>> DictionaryEntries(Slot slot, object value)
    {
        if (value is not IDictionary dictionary)
            throw new KilnException($"{TypeName}.{slot.Field.Name}: a dictionary of modules must implement System.Collections.IDictionary (Dictionary<string, T> does)");
        foreach (DictionaryEntry entry in dictionary)
            if (entry.Value is Module m) yield return new((string)entry.Key, m);
    }

    // Every class in the chain derives from Module, whose [DynamicallyAccessedMembers] annotation the
    // trimmer applies to all derived types, so their fields and properties are kept.
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "every type walked derives from Module, which is annotated to keep its fields and properties")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "every type walked derives from Module, which is annotated to keep its fields and properties")]
    private static Slot[] SlotsOf(Type type) => SlotsByType.GetOrAdd(type, static t =>
    {
        var chain = new List<Type>();
        for (var c = t; c is not null && c != typeof(Module); c = c.BaseType) chain.Add(c);
        chain.Reverse();
        var slots = new List<Slot>();
        foreach (var c in chain)
        {
            var fields = c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            Array.Sort(fields, (a, b) => a.MetadataToken.CompareTo(b.MetadataToken));
            foreach (var f in fields)
            {
                if (SlotKindOf(f.FieldType) is not { } kind) continue;
                if (MemberNameOf(c, f) is not { } name) continue;
                slots.Add(new Slot(f, name, kind));
            }
        }
        return slots.ToArray();
    });

    private static SlotKind? SlotKindOf(Type type)
    {
        if (type == typeof(Tensor)) return SlotKind.Tensor;
        if (typeof(Module).IsAssignableFrom(type)) return SlotKind.Module;
        if (IsModuleDictionaryType(type)) return SlotKind.ModuleDict;
        if (typeof(IEnumerable<Module>).IsAssignableFrom(type)) return SlotKind.ModuleList;
        return null;
    }

    // A generic dictionary type keyed by string with module values: Dictionary<string, T>,
    // SortedDictionary<string, T>, IDictionary<string, T>, IReadOnlyDictionary<string, T>, ...
    private static bool IsModuleDictionaryType(Type type)
    {
        if (!type.IsGenericType) return false;
        var args = type.GetGenericArguments();
        if (args.Length != 2 || args[0] != typeof(string) || !typeof(Module).IsAssignableFrom(args[1])) return false;
        var definition = type.GetGenericTypeDefinition();
        return typeof(IDictionary).IsAssignableFrom(type) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>);
    }

    // The member name of a field: an auto-property's name for its backing field, a primary
    // constructor parameter's name for its capture, the field name otherwise; null to skip the field.
    private static string? MemberNameOf([DynamicallyAccessedMembers(PropertyAccess)] Type declaring, FieldInfo field)
    {
        if (field.IsDefined(typeof(ExcludeFromStateAttribute), inherit: true)) return null;
        var name = field.Name;
        if (name.StartsWith('<'))
        {
            int end = name.IndexOf('>');
            if (end < 0) return null;
            var inner = name[1..end];
            var suffix = name[(end + 1)..];
            if (suffix == "k__BackingField")
            {
                var property = declaring.GetProperty(inner, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
                if (property?.IsDefined(typeof(ExcludeFromStateAttribute), inherit: true) == true) return null;
            }
            else if (suffix != "P")
            {
                return null;
            }
            name = inner;
        }
        return SnakeCase(name);
    }

    /// <summary>
    /// PyTorch-style member name: leading underscores dropped, then snake_case
    /// (<c>RunningMean</c> → <c>running_mean</c>, <c>_fc1</c> → <c>fc1</c>, <c>HTTPLayer</c> → <c>http_layer</c>).
    /// </summary>
    internal static string SnakeCase(string name)
    {
        var s = name.TrimStart('_');
        if (s.Length == 0) return name;
        var sb = new StringBuilder(s.Length + 4);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && s[i - 1] != '_')
                {
                    char prev = s[i - 1];
                    bool nextLower = i + 1 < s.Length && char.IsLower(s[i + 1]);
                    if (char.IsLower(prev) || (char.IsUpper(prev) || char.IsDigit(prev)) && nextLower) sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
