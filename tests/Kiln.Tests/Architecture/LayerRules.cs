namespace Kiln.Tests.Architecture;

/// <summary>
/// The layers of the core assembly, top to bottom (DESIGN.md, Layers): each may use only the layers
/// before it. <c>Kiln.Tensor</c> and <c>Kiln.Engine</c> are the user's façade (op files add entry points
/// to partial class Tensor by design), so they may use every layer.
/// </summary>
internal sealed class LayerRules(IReadOnlyList<string> layers, IReadOnlySet<string> facade)
{
    internal static readonly LayerRules Kiln = new(
        ["Kiln", "Kiln.Kernels", "Kiln.Ops", "Kiln.Autograd", "Kiln.NN", "Kiln.Optim", "Kiln.Data", "Kiln.Compile", "Kiln.Models", "Kiln.IO"],
        new HashSet<string>(["Kiln.Tensor", "Kiln.Engine"]));

    internal IReadOnlyList<string> Layers => layers;

    /// <summary>
    /// Index of the layer a namespace belongs to; -1 outside every layer (compiler-generated types such
    /// as System.Runtime.CompilerServices.NullableAttribute). The first layer is the root namespace
    /// itself ("Kiln"); every other layer also holds its sub-namespaces ("Kiln.Kernels.Cpu" is in "Kiln.Kernels").
    /// </summary>
    internal int LayerOf(string ns)
    {
        if (ns == layers[0]) return 0;
        for (int i = 1; i < layers.Count; i++)
            if (ns == layers[i] || ns.StartsWith(layers[i] + ".", StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>Violations as readable lines: "Kiln.Kernels.Cpu.X (Kiln.Kernels) uses Kiln.Autograd.Y (Kiln.Autograd), a layer above it".</summary>
    internal List<string> Violations(IEnumerable<TypeReferenceScanner.Reference> references)
    {
        var found = new List<string>();
        foreach (var r in references)
        {
            if (facade.Contains(r.From)) continue;
            int from = LayerOf(r.FromNamespace), to = LayerOf(r.ToNamespace);
            if (from < 0 || to < 0 || to <= from) continue;
            found.Add($"{r.From} ({layers[from]}) uses {r.To} ({layers[to]}), a layer above it");
        }
        return found;
    }

    /// <summary>Namespaces that start with the root layer's name but are in no listed layer (a layer the list forgot).</summary>
    internal List<string> UnknownNamespaces(IEnumerable<string> namespaces)
    {
        var root = layers[0];
        return namespaces
            .Where(ns => (ns == root || ns.StartsWith(root + ".", StringComparison.Ordinal)) && LayerOf(ns) < 0)
            .Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
