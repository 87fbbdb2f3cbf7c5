using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Kiln.NN;

/// <summary>
/// Base class of every layer and model (PyTorch's <c>nn.Module</c>). A module's parameters, buffers
/// and child modules are found by reflection over its instance fields, in declaration order (base
/// class fields first), including auto-property backing fields and private fields: a
/// <see cref="Tensor"/> field is a parameter when it requires grad (and stays one once seen), a
/// buffer otherwise; a <see cref="Module"/> field is a child; a list or array of modules is a child
/// <see cref="ModuleList"/> and a string-keyed dictionary of modules a child <see cref="ModuleDict"/>.
/// <see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/> and <see cref="RegisterModule"/> add
/// members under explicit names; <see cref="ExcludeFromStateAttribute"/> keeps a field out. Member
/// names follow PyTorch: snake_case, leading underscores dropped (<c>RunningMean</c> and
/// <c>_runningMean</c> are <c>running_mean</c>), joined with dots (<c>features.0.weight</c>).
/// <para>
/// Override <see cref="Forward"/> and run a module with <see cref="Call"/>, which also runs the
/// forward hooks. Parameters and buffers found or registered are taken out of every
/// <see cref="TensorScope"/>, so a model built inside a scope outlives it.
/// </para>
/// <para>
/// Error messages name a module by its path from the root of its tree, which is called
/// <c>model</c> (<c>model.features.3 (Conv2d 32->64, 5x5): ...</c>). A module learns its parent and
/// its name there whenever its parent lists its members: containers at once, other modules the first
/// time they are called or walked (<see cref="Parameters"/>, <see cref="ToString"/>, ...). A module
/// shared by two parents is named after the last one that listed it.
/// </para>
/// </summary>
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields
    | DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.NonPublicProperties)]
public abstract partial class Module
{
    // Marks a shape error that already names a module, so only the innermost module names itself.
    private const string PathTag = "Kiln.ModulePath";

    private bool _training = true;
    private List<Func<Module, Tensor, Tensor?>>? _preHooks;
    private List<Func<Module, Tensor, Tensor, Tensor?>>? _hooks;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool IsTraining => _training;

    /// <summary>Sets training mode on this module and every module below it (dropout drops, batch norm uses batch statistics). Returns this module.</summary>
    public Module Train(bool mode = true)
    {
        foreach (var m in Modules()) m._training = mode;
        return this;
    }

    /// <summary>Sets evaluation mode on this module and every module below it; the same as <c>Train(false)</c>.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// The module's computation. Override it in every module that computes something; run modules
    /// with <see cref="Call"/> so hooks and error context apply. Containers without a computation of
    /// their own (<see cref="ModuleList"/>, <see cref="ModuleDict"/>) throw.
    /// </summary>
    public virtual Tensor Forward(Tensor input)
        => throw new KilnException($"{Location}: {TypeName} has no Forward; it only holds modules, call them one by one (or use Sequential)");

    /// <summary>
    /// Runs the module: the forward pre-hooks (which may replace the input), <see cref="Forward"/>,
    /// then the forward hooks (which may replace the output). A shape error raised inside is
    /// reported with the path of the innermost module it came from.
    /// </summary>
    public Tensor Call(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!_membersListed) DirectMembers();
        if (_preHooks is { Count: > 0 })
            foreach (var hook in _preHooks.ToArray())
                input = hook(this, input) ?? input;
        Tensor output;
        try
        {
            output = Forward(input);
        }
        catch (KilnShapeException e) when (!e.Data.Contains(PathTag))
        {
            var located = new KilnShapeException($"{Location}: {e.Message}", e);
            located.Data[PathTag] = ModulePath;
            throw located;
        }
        if (_hooks is { Count: > 0 })
            foreach (var hook in _hooks.ToArray())
                output = hook(this, input, output) ?? output;
        return output;
    }

    /// <summary>Whether a forward or forward pre-hook could see (and keep) this module's input or output.</summary>
    internal bool HasForwardHooks => _preHooks is { Count: > 0 } || _hooks is { Count: > 0 };

    /// <summary>
    /// Adds a hook that <see cref="Call"/> runs before <see cref="Forward"/> with the module and its
    /// input; a non-null result replaces the input. Dispose the returned handle to remove the hook.
    /// </summary>
    public IDisposable RegisterForwardPreHook(Func<Module, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return HookHandle<Func<Module, Tensor, Tensor?>>.Add(_preHooks ??= new(), hook);
    }

    /// <summary>Adds a hook that <see cref="Call"/> runs before <see cref="Forward"/> with the module and its input. Dispose the handle to remove it.</summary>
    public IDisposable RegisterForwardPreHook(Action<Module, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return RegisterForwardPreHook((m, x) =>
        {
            hook(m, x);
            return null;
        });
    }

    /// <summary>
    /// Adds a hook that <see cref="Call"/> runs after <see cref="Forward"/> with the module, its input
    /// and its output; a non-null result replaces the output. Dispose the handle to remove it.
    /// </summary>
    public IDisposable RegisterForwardHook(Func<Module, Tensor, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return HookHandle<Func<Module, Tensor, Tensor, Tensor?>>.Add(_hooks ??= new(), hook);
    }

    /// <summary>Adds a hook that <see cref="Call"/> runs after <see cref="Forward"/> with the module, its input and its output. Dispose the handle to remove it.</summary>
    public IDisposable RegisterForwardHook(Action<Module, Tensor, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return RegisterForwardHook((m, x, y) =>
        {
            hook(m, x, y);
            return null;
        });
    }

    private sealed class HookHandle<T>(List<T> list, T hook) : IDisposable
    {
        internal static HookHandle<T> Add(List<T> list, T hook)
        {
            list.Add(hook);
            return new HookHandle<T>(list, hook);
        }

        public void Dispose() => list.Remove(hook);
    }

    // ---- naming and errors ----

    /// <summary>
    /// The name PyTorch prints for this module type ("ReLU" for <see cref="Relu"/>); the class name by
    /// default, prefixed with "Lazy" while a lazy layer awaits its first input ("LazyLinear", as
    /// PyTorch prints its lazy modules).
    /// </summary>
    protected virtual string TypeName
    {
        get
        {
            var name = GetType().Name;
            int tick = name.IndexOf('`');
            if (tick >= 0) name = name[..tick];
            return AwaitsInput ? "Lazy" + name : name;
        }
    }

    /// <summary>A short summary of the module's configuration for error messages ("256->10" for a Linear), or null.</summary>
    protected virtual string? Signature => null;

    /// <summary>The module's dotted path from the root of its tree, which is named <c>model</c> (<c>model.features.3</c>); see the class remarks.</summary>
    protected string ModulePath
    {
        get
        {
            var names = new List<string>();
            var m = this;
            // A module that is its own ancestor (a cycle through fields) stops the walk instead of looping.
            var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
            while (seen.Add(m) && m._parent is not null && m._parent.TryGetTarget(out var parent))
            {
                names.Add(m._nameInParent!);
                m = parent;
            }
            names.Add("model");
            names.Reverse();
            return string.Join('.', names);
        }
    }

    /// <summary>The path and a description of the module, as error messages begin: <c>model.fc2 (Linear 256->10)</c>.</summary>
    protected string Location => Signature is { } s ? $"{ModulePath} ({TypeName} {s})" : $"{ModulePath} ({TypeName})";

    /// <summary>The type as error messages and summaries name it, with its signature: <c>Linear 256->10</c>, <c>ReLU</c>.</summary>
    internal string Description => Signature is { } s ? $"{TypeName} {s}" : TypeName;

    /// <summary>The name PyTorch prints for this module's type (<see cref="TypeName"/>), for summaries.</summary>
    internal string PrintedTypeName => TypeName;

    /// <summary><paramref name="message"/> without the <see cref="Location"/> prefix this module's own errors begin with.</summary>
    internal string WithoutLocation(string message)
    {
        var prefix = Location + ": ";
        return message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;
    }

    /// <summary>
    /// An error about this module's input, prefixed with <see cref="Location"/>
    /// (<c>model.fc2 (Linear 256->10): input has 128 features, expected 256</c>).
    /// </summary>
    protected KilnShapeException InputError(string message)
    {
        var e = new KilnShapeException($"{Location}: {message}");
        e.Data[PathTag] = ModulePath;
        return e;
    }

    // ---- printing ----

    /// <summary>The module's own settings as PyTorch's <c>extra_repr</c> prints them ("in_features=3, out_features=4, bias=True"); empty by default.</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>The module tree, printed exactly as PyTorch prints a model.</summary>
    public override string ToString()
    {
        var extra = ExtraRepr();
        var extraLines = extra.Length == 0 ? [] : extra.Split('\n');
        var childLines = new List<string>();
        foreach (var member in DirectMembers())
            if (member.Kind == MemberKind.Module)
                childLines.Add($"({member.Name}): {Indent(member.Module!.ToString(), 2)}");
        var sb = new StringBuilder(TypeName).Append('(');
        if (extraLines.Length == 1 && childLines.Count == 0)
        {
            sb.Append(extraLines[0]);
        }
        else if (extraLines.Length + childLines.Count > 0)
        {
            sb.Append("\n  ").AppendJoin("\n  ", extraLines.Concat(childLines)).Append('\n');
        }
        return sb.Append(')').ToString();
    }

    // PyTorch's _addindent: every line but the first indented by `spaces`.
    private static string Indent(string text, int spaces)
    {
        var lines = text.Split('\n');
        if (lines.Length == 1) return text;
        var pad = new string(' ', spaces);
        return lines[0] + "\n" + string.Join('\n', lines.Skip(1).Select(l => pad + l));
    }
}
