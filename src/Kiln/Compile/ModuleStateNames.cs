using Kiln.NN;

namespace Kiln.Compile;

/// <summary>A module's parameters and buffers by identity, with their names ("fc1.weight"): how a tracer names the state it reads.</summary>
internal static class ModuleStateNames
{
    internal static IReadOnlyDictionary<Tensor, string> Of(Module? module)
    {
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        if (module is null) return names;
        foreach (var (name, p) in module.NamedParameters()) names.TryAdd(p, name);
        foreach (var (name, b) in module.NamedBuffers()) names.TryAdd(b, name);
        return names;
    }
}
