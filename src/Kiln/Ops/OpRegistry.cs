using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>Every primitive op, added by the op's own file at module load. Nobody else keeps a list.</summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, OpDef> ByName = new(StringComparer.Ordinal);

    internal static void Add(OpDef op)
    {
        lock (ByName)
        {
            if (!ByName.TryAdd(op.Name, op))
                throw new InvalidOperationException($"two ops are named {op.Name}");
        }
    }

    internal static OpDef Get(string name)
    {
        lock (ByName)
            return ByName.TryGetValue(name, out var op) ? op : throw new KeyNotFoundException($"no op is named '{name}'");
    }

    /// <summary>The op named <paramref name="name"/>, if one is registered (a file's reader asks without trusting the name).</summary>
    internal static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OpDef? op)
    {
        RuntimeHelpers.RunModuleConstructor(typeof(OpRegistry).Module.ModuleHandle);
        lock (ByName)
            return ByName.TryGetValue(name, out op);
    }

    internal static IReadOnlyList<OpDef> All
    {
        get
        {
            RuntimeHelpers.RunModuleConstructor(typeof(OpRegistry).Module.ModuleHandle);
            lock (ByName)
            {
                var list = new List<OpDef>(ByName.Values);
                list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                return list;
            }
        }
    }
}
