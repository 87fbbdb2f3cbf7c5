using Kiln.Ops;

namespace Kiln.Compile;

/// <summary>
/// One value of a <see cref="Graph"/> (SSA: defined once, by an input, a parameter, a constant or
/// one node): its shape and dtype, and for parameters and constants the tensor that holds it.
/// </summary>
internal sealed class GraphValue
{
    internal GraphValue(ValueKind kind, TensorSpec spec, string? name = null, Tensor? data = null)
    {
        Kind = kind;
        Spec = spec;
        Name = name;
        Data = data;
    }

    internal ValueKind Kind { get; }

    internal TensorSpec Spec { get; }

    /// <summary>The name of a parameter (its module path, "fc1.weight") or of a constant that has one; null otherwise.</summary>
    internal string? Name { get; }

    /// <summary>A parameter's live tensor (read at each call) or a constant's own copy; null for inputs and node results.</summary>
    internal Tensor? Data { get; set; }

    /// <summary>The node that defines this value (<see cref="ValueKind.Node"/> only).</summary>
    internal GraphNode? Producer { get; set; }

    /// <summary>
    /// True when the value is laid out densely in row-major order at every call: node results of
    /// non-view ops, constants, and inputs and parameters that had that layout when traced. View
    /// rewrites (a reshape of a reshape) rely on it.
    /// </summary>
    internal bool Dense { get; init; }

    internal bool IsView => Producer is { Op.IsView: true };
}
