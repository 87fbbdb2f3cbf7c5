namespace Kiln.Compile;

/// <summary>Where a graph value comes from.</summary>
internal enum ValueKind
{
    /// <summary>A tensor the caller passes at each call, by position.</summary>
    Input,
    /// <summary>A named tensor read live at each call: a module's parameter or buffer, or a captured tensor that requires grad.</summary>
    Parameter,
    /// <summary>A value fixed when the graph was made: a tensor captured or created during the trace (copied), or a folded result.</summary>
    Constant,
    /// <summary>The result of a node.</summary>
    Node,
}
