namespace Kiln.Ops;

/// <summary>
/// The immutable attributes of one op application (axes, strides, ...). Records give value equality,
/// which common-subexpression elimination and the graph format rely on; list-valued attributes use
/// <see cref="IntList"/> so they compare by value too.
/// </summary>
internal abstract record OpAttributes;

/// <summary>Attributes of an op that has none.</summary>
internal sealed record NoAttributes : OpAttributes
{
    internal static readonly NoAttributes Instance = new();
}
