using Kiln.Autograd;
using Kiln.Kernels.Cpu;
using Kiln.Ops;
using Kiln.Tests.Architecture.LayeringProbe.Low;

namespace Kiln.Tests.Architecture;

/// <summary>The layering rule of DESIGN.md, checked on the built Kiln.dll: no layer uses a layer above it.</summary>
public sealed class LayeringTests
{
    private static readonly string KilnDll = typeof(Tensor).Assembly.Location;

    [Fact]
    public void No_layer_of_Kiln_uses_a_layer_above_it()
    {
        using var scanner = new TypeReferenceScanner(KilnDll);
        var violations = LayerRules.Kiln.Violations(scanner.References());
        Assert.True(violations.Count == 0,
            $"upward references between layers ({string.Join(" > ", LayerRules.Kiln.Layers)}, top first):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_namespace_of_Kiln_is_a_known_layer()
    {
        var unknown = LayerRules.Kiln.UnknownNamespaces(typeof(Tensor).Assembly.GetTypes().Select(t => t.Namespace ?? ""));
        Assert.True(unknown.Count == 0, "namespaces in no layer (add them to LayerRules and DESIGN.md, or move the code): " + string.Join(", ", unknown));
    }

    [Fact]
    public void The_scanner_sees_references_the_core_is_known_to_make()
    {
        using var scanner = new TypeReferenceScanner(KilnDll);
        var refs = scanner.References().Select(r => (r.From, r.To)).ToHashSet();
        // Method bodies only (calls and statics): Dispatcher -> CopyKernel, BackwardEngine -> FiniteCheck.
        Assert.Contains((typeof(Dispatcher).FullName!, typeof(CopyKernel).FullName!), refs);
        Assert.Contains((typeof(BackwardEngine).FullName!, typeof(FiniteCheck).FullName!), refs);
        // Base type: OpNode : GradNode. Façade references are listed too, just not judged.
        Assert.Contains((typeof(OpNode).FullName!, typeof(GradNode).FullName!), refs);
        Assert.Contains(("Kiln.Tensor", typeof(Dispatcher).FullName!), refs);
    }

    [Fact]
    public void The_rule_flags_an_upward_reference_and_names_both_types()
    {
        var references = new TypeReferenceScanner.Reference[]
        {
            new("Kiln.Kernels.Cpu.GemmKernel", "Kiln.Kernels.Cpu", "Kiln.Autograd.BackwardEngine", "Kiln.Autograd"),
            new("Kiln.Autograd.BackwardEngine", "Kiln.Autograd", "Kiln.Kernels.Cpu.FiniteCheck", "Kiln.Kernels.Cpu"),
            new("Kiln.Storage", "Kiln", "Kiln.Ops.Dispatcher", "Kiln.Ops"),
            new("Kiln.Tensor", "Kiln", "Kiln.NN.F", "Kiln.NN"),
            new("Kiln.Engine", "Kiln", "Kiln.Autograd.BackwardEngine", "Kiln.Autograd"),
            new("Kiln.IO.SafeTensors", "Kiln.IO", "Kiln.Models.Sequential", "Kiln.Models"),
            new("Kiln.NN.Linear", "Kiln.NN", "Kiln.Ops.Dispatcher", "Kiln.Ops"),
            new("Kiln.Ops.Dispatcher", "Kiln.Ops", "System.Runtime.CompilerServices.NullableAttribute", "System.Runtime.CompilerServices"),
        };
        var violations = LayerRules.Kiln.Violations(references);
        Assert.Equal(
        [
            "Kiln.Kernels.Cpu.GemmKernel (Kiln.Kernels) uses Kiln.Autograd.BackwardEngine (Kiln.Autograd), a layer above it",
            "Kiln.Storage (Kiln) uses Kiln.Ops.Dispatcher (Kiln.Ops), a layer above it",
        ], violations);
    }

    [Fact]
    public void Layers_are_matched_by_namespace_prefix()
    {
        var rules = LayerRules.Kiln;
        Assert.Equal(0, rules.LayerOf("Kiln"));
        Assert.Equal(1, rules.LayerOf("Kiln.Kernels.Cpu"));
        Assert.Equal(4, rules.LayerOf("Kiln.NN.Functional"));
        Assert.Equal(-1, rules.LayerOf("Kilner"));
        Assert.Equal(-1, rules.LayerOf("System.Runtime.CompilerServices"));
        Assert.Equal(["Kiln.Unlisted"], rules.UnknownNamespaces(["Kiln", "Kiln.Unlisted", "Kiln.Ops", "Microsoft.CodeAnalysis"]));
    }

    [Fact]
    public void The_scanner_catches_a_deliberately_bad_pair_hidden_in_a_method_body()
    {
        // The probe types below live in this test assembly: Low.Worker reaches High.Service only from
        // inside method bodies (a lambda, a generic call, a field read in an iterator), never in a signature.
        using var scanner = new TypeReferenceScanner(typeof(Worker).Assembly.Location);
        var rules = new LayerRules(["Kiln.Tests.Architecture.LayeringProbe.Low", "Kiln.Tests.Architecture.LayeringProbe.High"], new HashSet<string>());
        var probe = scanner.References().Where(r => r.FromNamespace.StartsWith("Kiln.Tests.Architecture.LayeringProbe", StringComparison.Ordinal));
        var violations = rules.Violations(probe);
        Assert.Equal(
            ["Kiln.Tests.Architecture.LayeringProbe.Low.Worker (Kiln.Tests.Architecture.LayeringProbe.Low) uses Kiln.Tests.Architecture.LayeringProbe.High.Service (Kiln.Tests.Architecture.LayeringProbe.High), a layer above it"],
            violations);
        Assert.NotNull(new Worker().Run());
    }
}
