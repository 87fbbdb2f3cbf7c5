namespace Kiln.Ops;

/// <summary>How the compiler may fuse an op with its neighbours.</summary>
internal enum FusionKind
{
    /// <summary>One output element from the same-index input elements (after broadcasting).</summary>
    Elementwise,
    /// <summary>Reduces some dimensions; may end an elementwise chain.</summary>
    Reduction,
    /// <summary>A view: no data moves.</summary>
    View,
    /// <summary>Runs as its own kernel.</summary>
    Opaque,
}
