namespace Kiln.Ops;

/// <summary>
/// How to read an attribute record of type <typeparamref name="TAttr"/> from a <c>.kiln</c> file: set
/// once by the record's own [ModuleInitializer] to its static <c>Read</c>, and called through
/// <see cref="OpDef.ReadAttributesUntyped"/>. A plain generic static, so reading needs no reflection.
/// </summary>
internal static class AttributeFormat<TAttr> where TAttr : OpAttributes
{
    internal static Func<AttributeReader, TAttr>? Reader { get; set; }
}
