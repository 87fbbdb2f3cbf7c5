using System.Text;
using Kiln.Ops;

namespace Kiln.NN;

public abstract partial class Module
{
    // ---- walking the tree ----

    /// <summary>Every module of the tree in pre-order, each once, with its members: the root is named "".</summary>
    private List<(string Name, Module Module, List<Member> Members)> Walk()
    {
        var result = new List<(string, Module, List<Member>)>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        Visit(this, "");
        return result;

        void Visit(Module m, string prefix)
        {
            if (!seen.Add(m)) return;
            var members = m.DirectMembers();
            result.Add((prefix, m, members));
            foreach (var member in members)
                if (member.Kind == MemberKind.Module) Visit(member.Module!, Join(prefix, member.Name));
        }
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The parameters of this module and every module below it, each once (a shared parameter is listed under its first name).</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>The parameters with their dotted names (<c>features.0.weight</c>), each once.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() => NamedTensors(MemberKind.Parameter);

    /// <summary>The buffers (running statistics and other state that is not trained) of this module and every module below it, each once.</summary>
    public IEnumerable<Tensor> Buffers() => NamedBuffers().Select(b => b.Buffer);

    /// <summary>The buffers with their dotted names (<c>bn1.running_mean</c>), each once.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() => NamedTensors(MemberKind.Buffer);

    private List<(string, Tensor)> NamedTensors(MemberKind kind)
    {
        var result = new List<(string, Tensor)>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, _, members) in Walk())
            foreach (var m in members)
                if (m.Kind == kind && seen.Add(m.Tensor!)) result.Add((Join(prefix, m.Name), m.Tensor!));
        return result;
    }

    /// <summary>The direct children, each once.</summary>
    public IEnumerable<Module> Children() => NamedChildren().Select(c => c.Module);

    /// <summary>The direct children with their names, each once.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        var result = new List<(string, Module)>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        foreach (var m in DirectMembers())
            if (m.Kind == MemberKind.Module && seen.Add(m.Module!)) result.Add((m.Name, m.Module!));
        return result;
    }

    /// <summary>This module and every module below it, in pre-order, each once.</summary>
    public IEnumerable<Module> Modules() => Walk().Select(w => w.Module);

    /// <summary>This module (named "") and every module below it with their dotted names, in pre-order, each once.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules() => Walk().Select(w => (w.Name, w.Module)).ToList();

    /// <summary>Calls <paramref name="fn"/> on every module below this one, then on this one (children first, as in PyTorch). Returns this module.</summary>
    public Module Apply(Action<Module> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        foreach (var child in Children()) child.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Number of parameter elements (a shared parameter counted once).</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.NumElements);

    /// <summary>Number of parameter elements that require grad.</summary>
    public long TrainableParameterCount => Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.NumElements);

    // ---- gradients and dtype ----

    /// <summary>
    /// Clears the gradients of every parameter. With <paramref name="setToNone"/> (the default, as in
    /// PyTorch 2) each gradient is disposed and set to null, so the next backward pass allocates it
    /// again; otherwise it is zeroed in place.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters())
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

    /// <summary>
    /// Converts every floating-point parameter and buffer (and gradient) to <paramref name="dtype"/>
    /// in place: the tensor objects stay the same, so references to them (an optimizer's) remain
    /// valid. Integer buffers (num_batches_tracked) are left alone. Returns this module.
    /// </summary>
    public Module To(DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"Module.To: parameters can only be converted to a floating-point dtype, not {dtype.Name()}", nameof(dtype));
        RecordLazyDType(dtype);
        var tensors = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (_, _, members) in Walk())
            foreach (var m in members)
                if (m.Tensor is not null) tensors.Add(m.Tensor);
        using (Engine.NoGrad())
        {
            foreach (var t in tensors)
            {
                if (!t.DType.IsFloatingPoint() || t.DType == dtype) continue;
                using (var converted = t.To(dtype)) t.ReplaceData(converted);
                if (t.Grad is { } g && g.DType != dtype)
                {
                    t.Grad = g.To(dtype).DetachFromScope();
                    g.Dispose();
                }
            }
        }
        return this;
    }

    // ---- state dict ----

    /// <summary>
    /// The parameters and persistent buffers by dotted name, in PyTorch's order (each module's
    /// parameters, then its buffers, then its children's). A shared tensor appears under each of its
    /// names. The values are views of the live tensors (they share memory; disposing one is harmless).
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var (name, tensor) in StateEntries()) result.Add(name, tensor.Detach());
        return result;
    }

    private List<(string Name, Tensor Tensor)> StateEntries()
    {
        var result = new List<(string, Tensor)>();
        var path = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        Collect(this, "");
        return result;

        void Collect(Module module, string prefix)
        {
            // A module shared by two parents is saved under both names (as PyTorch does); one that
            // contains itself is saved once.
            if (!path.Add(module)) return;
            var members = module.DirectMembers();
            foreach (var m in members)
                if (m.Kind == MemberKind.Parameter) result.Add((Join(prefix, m.Name), m.Tensor!));
            foreach (var m in members)
                if (m.Kind == MemberKind.Buffer && m.Persistent) result.Add((Join(prefix, m.Name), m.Tensor!));
            foreach (var m in members)
                if (m.Kind == MemberKind.Module) Collect(m.Module!, Join(prefix, m.Name));
            path.Remove(module);
        }
    }

    /// <summary>
    /// Copies the values of <paramref name="stateDict"/> into this module's parameters and buffers,
    /// converting dtypes. Every key is checked before anything is copied: a shape mismatch always
    /// throws, and with <paramref name="strict"/> (the default) so do missing and unexpected keys; the
    /// <see cref="KilnException"/> lists them all. Returns the missing and unexpected keys.
    /// <para>
    /// An unbuilt lazy layer (<c>new Linear(10)</c>) is first built from the shapes of its saved
    /// tensors, as PyTorch's lazy modules load, so a saved model loads into a freshly constructed lazy
    /// one; this draws nothing from the random stream, and a load that throws leaves the layers unbuilt.
    /// </para>
    /// </summary>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var missing = new List<string>();
        var mismatched = new List<string>();
        var built = BuildLazyFromState(stateDict, missing, mismatched);
        try
        {
            return LoadStateDictInto(stateDict, strict, missing, mismatched);
        }
        catch
        {
            foreach (var m in built) m.Unbuild();
            throw;
        }
    }

    private LoadStateDictResult LoadStateDictInto(IReadOnlyDictionary<string, Tensor> stateDict, bool strict, List<string> missing, List<string> mismatched)
    {
        var expected = StateEntries();
        var expectedNames = new HashSet<string>();
        foreach (var (name, target) in expected)
        {
            expectedNames.Add(name);
            if (!stateDict.TryGetValue(name, out var value) || value is null)
            {
                missing.Add(name);
                continue;
            }
            if (value.IsDisposed)
                mismatched.Add($"disposed tensor for {name}");
            else if (value.Shape != target.Shape)
                mismatched.Add($"size mismatch for {name}: the state dict has shape {value.Shape}, the model has {target.Shape}");
        }
        var unexpected = stateDict.Keys.Where(k => !expectedNames.Contains(k)).ToList();

        if (mismatched.Count > 0 || strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            var sb = new StringBuilder($"Error(s) in loading the state dict of {TypeName}:");
            if (strict && missing.Count > 0) sb.Append("\n  missing keys: ").AppendJoin(", ", missing.Select(k => $"\"{k}\""));
            if (strict && unexpected.Count > 0) sb.Append("\n  unexpected keys: ").AppendJoin(", ", unexpected.Select(k => $"\"{k}\""));
            foreach (var m in mismatched) sb.Append("\n  ").Append(m);
            throw new KilnException(sb.ToString());
        }

        using (Engine.NoGrad())
        {
            foreach (var (name, target) in expected)
            {
                if (!stateDict.TryGetValue(name, out var value) || value is null) continue;
                var source = value.To(target.DType);
                // A view of the target itself (what StateDict returns) needs no copy; another view of the
                // same memory is read out first so no element is overwritten before it is read.
                bool same = source.SharesStorageWith(target) && source.StorageOffset == target.StorageOffset
                    && source.StridesArray.AsSpan().SequenceEqual(target.StridesArray);
                if (!same)
                {
                    var copy = source.SharesStorageWith(target) ? source.Clone() : source;
                    Dispatcher.CopyInto(copy, target);
                    target.BumpVersion();
                    if (!ReferenceEquals(copy, source)) copy.Dispose();
                }
                if (!ReferenceEquals(source, value)) source.Dispose();
            }
        }
        return new LoadStateDictResult(missing, unexpected);
    }
}
