using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>
/// The immutable attributes of one op application (axes, strides, ...). Records give value equality,
/// which common-subexpression elimination and the graph format rely on; list-valued attributes use
/// <see cref="IntList"/> so they compare by value too. Each record also gives its file form: it
/// overrides <see cref="Write"/>, and declares a static <c>Read</c> that reads the same fields back
/// with their range checks, registered for its type in <see cref="AttributeFormat{TAttr}"/> from a
/// [ModuleInitializer] (so a <c>.kiln</c> reader needs no reflection).
/// </summary>
internal abstract record OpAttributes
{
    /// <summary>
    /// Writes the record's fields for a <c>.kiln</c> file. A record without a file form (an op that only
    /// an executor's lowering passes create, never saved) keeps this default, which refuses.
    /// </summary>
    internal virtual void Write(AttributeWriter writer)
        => throw new KilnException($"{GetType().Name} attributes have no .kiln file form; only the portable graph is saved");
}

/// <summary>Attributes of an op that has none.</summary>
internal sealed record NoAttributes : OpAttributes
{
    internal static readonly NoAttributes Instance = new();

    internal override void Write(AttributeWriter writer) { }

    internal static NoAttributes Read(AttributeReader reader) => Instance;

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<NoAttributes>.Reader = Read;
}
